// `drillbook drill`: prepare → steady state → probe → fault → recovery → measure → restore →
// verdict (./phases). The drill wraps one run of its runbook (same lock, same journal); no action
// knows it is in a drill.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Output } from '../system/output.js';
import { standardSession } from '../compose/session.js';
import { newRun } from '../engine/new-run.js';
import { stateDirOf } from '../system/run-paths.js';
import type { WrapContext } from '../engine/session.js';
import { ExitCode } from '../errors.js';
import { DEFAULT_REPORTS_DIR, reportDirName } from '../report/write.js';
import { prepareRun } from '../runbook/prepare.js';
import type { Runbook } from '../runbook/schema.js';
import { inputsBeforeFault } from './fault-inputs.js';
import { loadDrill, type LoadedDrill } from './load-drill.js';
import { judgePatroni, startPatroniWatch, stopPatroniWatch } from './patroni-drill.js';
import { measure, readFailover } from './phases/measure.js';
import { prepareDrill } from './phases/prepare.js';
import { clientsBack, startProbe } from './phases/probe.js';
import { strikeAndRecover } from './phases/recovery.js';
import { restoreEnvironment } from './phases/restore.js';
import type { DrillOptions, DrillOutcome } from './phases/state.js';
import { checkSteadyState } from './phases/steady-state.js';
import { finish, judge, refuse } from './phases/verdict.js';

export async function runDrill(o: DrillOptions, io: Output): Promise<DrillOutcome> {
  const loaded = loadDrill(o.drillFile, o.inventoryFile);
  const stateDir = stateDirOf(o.stateDir);
  const prepared = prepareRun({
    runbookFile: loaded.runbookFile,
    inventoryFile: loaded.inventoryFile,
    envName: loaded.env.name,
    inputs: (runbook) => inputsBeforeFault(runbook, { ...loaded.drill.inputs, ...o.inputs }, loaded.env),
  });
  const { spec, header } = newRun(prepared, loaded.runbookFile);
  let outcome: DrillOutcome = { runId: spec.runId, verdict: 'aborted', exitCode: ExitCode.failed };
  // Drills run unattended: approvals are granted, and their (zero) wait is still recorded apart.
  await standardSession(
    spec,
    {
      stateDir,
      json: o.json,
      yes: true,
      header,
      signal: o.signal,
      around: async (w) => {
        outcome = await drillAround(loaded, prepared.runbook, spec.runId, stateDir, o, io, w);
        return outcome.exitCode;
      },
    },
    io,
  );
  // The session wrote the reports (see report/evidence.ts); the scheduler wants to know where.
  const reportDir = resolve(DEFAULT_REPORTS_DIR, reportDirName(header));
  return existsSync(reportDir) ? { ...outcome, reportDir } : outcome;
}

/** The drill in its phases, around the one run of its runbook that `w.execute` starts. */
async function drillAround(
  loaded: LoadedDrill,
  runbook: Runbook,
  runId: string,
  stateDir: string,
  o: DrillOptions,
  io: Output,
  w: WrapContext,
): Promise<DrillOutcome> {
  const s = prepareDrill(loaded, runbook, runId, stateDir, o, io, w);
  const refused = await checkSteadyState(s);
  if (refused) return refuse(s, refused);
  const watch = await startPatroniWatch(s).catch((err: Error) => err);
  if (watch instanceof Error) return refuse(s, `cannot watch Patroni: ${watch.message}`);
  try {
    await startProbe(s);
    await strikeAndRecover(s);
    const failover = await readFailover(s);
    // What Patroni did is taken before the restore hands the leader back.
    const patroni = await stopPatroniWatch(s, watch);
    // The clients keep writing through the restore: a failback is an outage they feel too.
    const restoreReasons: string[] = [];
    const restore = await restoreEnvironment(s, restoreReasons);
    if (restore.window) await clientsBack(s, restore.window.to);
    const measured = await measure(s, failover, restore.window);
    const patroniReasons = [...patroni.reasons, ...judgePatroni(s, patroni.figures, measured)];
    const { verdict, reasons } = judge(s, measured);
    reasons.push(...patroniReasons, ...restoreReasons);
    return finish(
      s,
      reasons.length && verdict === 'pass' ? 'fail' : verdict,
      reasons,
      measured,
      restore.outcome,
    );
  } finally {
    // Probes that started are stopped whatever failed (stop is idempotent).
    await Promise.all(s.probes.map((p) => p.stop()));
    await s.serveLock?.release();
  }
}
