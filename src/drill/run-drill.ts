// `drillbook drill`: steady state → probe → fault → runbook → figures → restore → verdict. The
// drill wraps one run of its runbook (same lock, same journal); no action knows it is in a drill.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Output } from '../cli/output.js';
import { parseDuration } from '../duration.js';
import { newRun } from '../engine/commands.js';
import type { DrillFiguresEvent, RunEvent } from '../engine/events.js';
import { stateDirOf } from '../engine/paths.js';
import { runSession, type WrapContext } from '../engine/session.js';
import { errorMessage, ExitCode } from '../errors.js';
import { prepareRun } from '../runbook/prepare.js';
import type { Runbook } from '../schema/runbook.js';
import { resolveNode } from '../schema/inventory.js';
import { clearDegraded, markDegraded, readDegraded } from './degraded.js';
import { faults } from './faults/index.js';
import { forgetFault, pendingFaults, recordFault } from './pending-faults.js';
import type { EnvContext } from '../actions/types.js';
import type { FaultContext } from './faults/types.js';
import { drillFigures } from './figures.js';
import { loadDrill, type LoadedDrill } from './load-drill.js';
import { drillPhases } from './phases.js';
import { Probe, PROBE_TABLE } from './probe.js';
import { probeRoute, type Connect, type ProbeRoute } from './probe-route.js';
import { promotionPoint } from './promotion-point.js';
import { runRestore, type RestoreOutcome } from './restore.js';
import { settledSteadyState } from './steady-state.js';
import { behindRoute, currentPrimary } from './current-primary.js';
import { loadDocument } from '../runbook/load.js';
import { drillVerdict } from './verdict.js';
import { DEFAULT_REPORTS_DIR, reportDirName } from '../report/write.js';
import { evaluate, parseSite } from '../runbook/expressions.js';
import type { InputValues } from '../runbook/inputs.js';
import { inputsAfterFault, inputsBeforeFault } from './fault-inputs.js';

export interface DrillOptions {
  drillFile: string;
  inventoryFile?: string;
  stateDir?: string;
  json?: boolean;
  /** Overrides of the drill's runbook inputs (`--set`). */
  inputs?: Record<string, string>;
  /** Aborts the drill (fault reverted, restore run) and leaves process signals to the caller. */
  signal?: AbortSignal;
}

export interface DrillOutcome {
  runId: string;
  verdict: 'pass' | 'fail' | 'aborted';
  exitCode: number;
  reasons?: string[];
  objectives?: { rtoMs: number; rpoRows: number };
  figures?: DrillFiguresEvent;
  restore?: RestoreOutcome;
  /** Where the reports of the drill were written. */
  reportDir?: string;
}

const DEFAULT_INTERVAL_MS = 50;
/** Step kinds whose success means the data is back in a verified, usable copy. */
const RECOVERY_KINDS = new Set(['pitr', 'restore-test']);
/** Writes sent after the runbook finished, so the recovery is seen even when it came last. */
const TAIL_MS = 1000;

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
  await runSession(
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

async function drillAround(
  loaded: LoadedDrill,
  runbook: Runbook,
  runId: string,
  stateDir: string,
  o: DrillOptions,
  io: Output,
  w: WrapContext,
): Promise<DrillOutcome> {
  const { drill, env } = loaded;
  const events: RunEvent[] = [];
  w.emitter.subscribe((e) => events.push(e));
  // Probe and fault times are on performance.now(); events on the run's clock.
  const offset = performance.now() - w.emitter.now();
  const onRunClock = (t: number) => t - offset;
  const objectives = { rtoMs: parseDuration(drill.objectives.rto) ?? 0, rpoRows: drill.objectives.rpo };
  const intervalMs = parseDuration(drill.probe?.interval ?? '') ?? DEFAULT_INTERVAL_MS;
  const route = probeRoute(env, drill.probe, w.secret);
  const node = drill.fault ? resolveNode(env, drill.fault.target) : env.primary;
  w.emitter.emit({
    type: 'drill-started',
    drill: { name: drill.metadata.name, path: loaded.file },
    fault: {
      kind: drill.fault?.kind ?? 'none',
      node,
      durationMs: parseDuration(drill.fault?.duration ?? ''),
    },
    objectives,
    probe: { route: route.description, intervalMs },
  });

  const finish = (
    verdict: DrillOutcome['verdict'],
    reasons: string[],
    figures: DrillFiguresEvent,
    restore: RestoreOutcome | undefined,
  ) => {
    w.emitter.emit({
      type: 'drill-finished',
      verdict,
      reasons,
      figures,
      objectives,
      phases: drillPhases(runbook, events),
      restore: restore
        ? { status: restore.status, runId: restore.runId, manualSteps: restore.manualSteps }
        : { status: 'skipped' },
    });
    return {
      runId,
      verdict,
      exitCode: verdict === 'pass' ? ExitCode.ok : ExitCode.failed,
      reasons,
      objectives,
      figures,
      restore,
    };
  };
  const noFigures: DrillFiguresEvent = {
    longestGapMs: 0,
    writesSent: 0,
    writesAcked: 0,
    writesFailed: 0,
    rpoRows: 0,
    lostSeqs: [],
    splitBrainWrites: 0,
    faultAt: 0,
  };

  await revertLeftovers(stateDir, env, w);
  // Steady state first: an unhealthy (or degraded) environment is refused, not drilled.
  const steady = await settledSteadyState(env, w.secret);
  w.emitter.emit({ type: 'steady-state', ...steady });
  const degraded = readDegraded(stateDir, env.name);
  if (!steady.healthy) {
    const why = degraded
      ? `environment ${env.name} is marked degraded since ${degraded.since} (run ${degraded.runId}) and still unhealthy`
      : `environment ${env.name} is not in its steady state`;
    return finish('aborted', [`${why}: ${steady.problems.join('; ')}`], noFigures, undefined);
  }
  if (degraded) clearDegraded(stateDir, env.name);

  const stop = new AbortController();
  const signal = AbortSignal.any([w.signal, stop.signal]);
  const stopWhen = drill.stopConditions?.when;
  const stopAst = stopWhen ? parseSite({ source: stopWhen, start: -3, end: stopWhen.length }) : undefined;
  let lastProgress = 0;
  const probe: Probe = new Probe({
    connect: route.connect,
    runId,
    intervalMs,
    writeTimeoutMs: Math.max(500, intervalMs * 10),
    onWrite: () => {
      const stats = probe.stats();
      if (stopAst && !stop.signal.aborted && evaluate(stopAst, { probe: stats })) {
        stop.abort(new Error(`stop condition "${stopWhen}" held`));
      }
      if (performance.now() - lastProgress >= 1000) {
        lastProgress = performance.now();
        w.emitter.emit({ type: 'probe-progress', ...stats });
      }
    },
  });
  await probe.start();
  await sleep(Math.max(300, intervalMs * 5));

  const fault = drill.fault ? faults.get(drill.fault.kind)! : undefined;
  const faultCtx: FaultContext = {
    env,
    node,
    options: { table: drill.fault?.table, where: drill.fault?.where },
    durationMs: parseDuration(drill.fault?.duration ?? ''),
    secret: w.secret,
    log: (message) => w.emitter.emit({ type: 'log', level: 'info', message }),
  };
  let reverted: Promise<void> | undefined;
  const revert = () =>
    (reverted ??= (async () => {
      if (!fault) return;
      try {
        const detail = await fault.revert(faultCtx);
        forgetFault(stateDir, runId);
        w.emitter.emit({ type: 'fault-reverted', kind: fault.kind, node, detail });
      } catch (err) {
        w.emitter.emit({
          type: 'fault-reverted',
          kind: fault.kind,
          node,
          detail: 'revert failed',
          error: errorMessage(err),
        });
      }
    })());
  const maxDuration = parseDuration(drill.stopConditions?.maxDuration ?? '');
  const timers: NodeJS.Timeout[] = [];
  let faultAt = performance.now();
  let aborted: string | undefined;
  let run: Awaited<ReturnType<WrapContext['execute']>> | undefined;
  let lateInputs: InputValues | undefined;
  try {
    if (fault) {
      recordFault(stateDir, {
        runId,
        environment: env.name,
        inventoryFile: loaded.inventoryFile,
        kind: fault.kind,
        node,
        durationMs: faultCtx.durationMs,
        since: new Date().toISOString(),
      });
      const injected = await fault.inject(faultCtx);
      faultAt = injected.at;
      const facts = injected.facts ?? {};
      w.emitter.emit({
        type: 'fault-injected',
        kind: fault.kind,
        node,
        at: onRunClock(faultAt),
        detail: [`${fault.kind} on ${node}`, ...Object.entries(facts).map(([k, v]) => `${k} ${v}`)].join(
          ', ',
        ),
      });
      lateInputs = inputsAfterFault(runbook, { ...drill.inputs, ...o.inputs }, env, facts);
      if (lateInputs) {
        w.emitter.emit({
          type: 'log',
          level: 'info',
          message: `inputs from the fault: ${Object.entries(lateInputs)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ')}`,
        });
      }
      if (fault.timed && faultCtx.durationMs)
        timers.push(setTimeout(() => void revert(), faultCtx.durationMs));
    }
    if (maxDuration)
      timers.push(
        setTimeout(
          () => stop.abort(new Error(`maxDuration ${drill.stopConditions?.maxDuration} reached`)),
          maxDuration,
        ),
      );
    // Without a fault (a restore test) the disaster is the start of the runbook.
    if (!fault) faultAt = performance.now();
    run = await w.execute(signal, lateInputs);
    if (stop.signal.aborted) aborted = `stopped: ${errorMessage(stop.signal.reason)}`;
    else if (w.signal.aborted) aborted = 'interrupted by the operator';
    // A timed fault ends on its own schedule, with the probe still watching: a frozen or cut-off
    // primary that comes back after the failover must not take a single write.
    const faultEnds = faultAt + (fault?.timed ? (faultCtx.durationMs ?? 0) : 0);
    if (!aborted && faultEnds > performance.now())
      await sleep(faultEnds - performance.now(), undefined, { signal }).catch(() => undefined);
    await revert();
    await sleep(TAIL_MS);
  } catch (err) {
    aborted = `the fault could not be injected: ${errorMessage(err)}`;
  } finally {
    timers.forEach(clearTimeout);
    await revert();
  }
  const writes = await probe.stop();

  const promote = events.find(
    (e): e is Extract<RunEvent, { type: 'step-finished' }> =>
      e.type === 'step-finished' &&
      e.status === 'succeeded' &&
      e.phase === 'main' &&
      typeof e.outputs.timeline === 'number' &&
      typeof e.outputs.node === 'string',
  );
  const newPrimary = typeof promote?.outputs.node === 'string' ? promote.outputs.node : undefined;
  const present = await presentSeqs(route.connect, runId).catch(() => undefined);
  const oldNode = env.postgres.nodes[env.primary]!;
  const figures = drillFigures({
    writes,
    faultAt,
    presentSeqs: present ?? new Set(),
    oldPrimary: `${oldNode.host}:${oldNode.port}`,
    promotedAt: promote ? promote.t + offset : undefined,
    promotionLsn:
      newPrimary && newPrimary !== env.primary
        ? await promotionPoint(env, newPrimary, w.secret).catch(() => undefined)
        : undefined,
  });
  // A data fault leaves clients writing, and a restore test without a fault harms nothing: there,
  // recovery is the end of the runbook's last restore-test or pitr step (a verified, usable copy).
  // A drill without a fault that moves the primary (a switchover) is measured by its clients.
  const stepKinds = new Map(runbook.steps.map((st) => [st.id, st.kind]));
  const restores = [...stepKinds.values()].some((kind) => RECOVERY_KINDS.has(kind));
  const measuresRecovery = fault ? fault.harms === 'data' : restores;
  if (measuresRecovery) {
    const recovery = events.findLast(
      (e): e is Extract<RunEvent, { type: 'step-finished' }> =>
        e.type === 'step-finished' &&
        e.status === 'succeeded' &&
        e.phase === 'main' &&
        RECOVERY_KINDS.has(stepKinds.get(e.stepId) ?? ''),
    );
    figures.rtoMs = recovery ? recovery.t + offset - faultAt : undefined;
  }
  const firstFail = writes.find((x) => x.sentAt >= faultAt && x.ackAt === undefined);
  const recovered = writes.find((x) => x.sentAt >= faultAt && x.ackAt !== undefined);
  const figuresEvent: DrillFiguresEvent = {
    ...figures,
    ...(measuresRecovery && { rtoBasis: 'recovery' as const }),
    faultAt: onRunClock(faultAt),
    promotedAt: promote?.t,
    outage: firstFail
      ? { from: onRunClock(firstFail.sentAt), to: onRunClock(recovered?.ackAt ?? writes.at(-1)!.sentAt) }
      : undefined,
  };
  const { verdict, reasons } = drillVerdict({
    runSucceeded: run?.status === 'succeeded',
    runError: run?.error?.message,
    aborted,
    figures: figuresEvent,
    objectives,
  });
  if (!present) reasons.push('could not read the probe rows back through the route: RPO unknown');

  // A drill stopped before its failover leaves nothing to restore: the restore runs only when needed.
  const needsRestore =
    loaded.restoreFile !== undefined &&
    (!(await settledSteadyState(env, w.secret)).healthy ||
      (await behindRoute(env, route.connect).catch(() => undefined)) !== env.primary);
  if (loaded.restoreFile && !needsRestore) {
    w.emitter.emit({
      type: 'log',
      level: 'info',
      message: `${env.name} is already in its steady state: no restore needed`,
    });
  }
  const restore = needsRestore ? await restoreAfter(loaded, route, stateDir, o, io, w) : undefined;
  const after = await settledSteadyState(env, w.secret);
  w.emitter.emit({ type: 'steady-state', ...after });
  if (restore?.status === 'failed' || !after.healthy) {
    const what = loaded.restoreFile ? 'restore failed' : 'not restored (the drill names no restore runbook)';
    const manualSteps = restore?.manualSteps.length
      ? restore.manualSteps
      : after.problems.map((p) => `fix: ${p}`);
    const mark = markDegraded(stateDir, {
      environment: env.name,
      since: new Date().toISOString(),
      runId,
      reason: restore?.error ?? after.problems.join('; '),
      manualSteps,
    });
    io.err(
      `\n!!! ${what.toUpperCase()}: environment ${env.name} is DEGRADED (${mark}); the next drill refuses it until it is healthy.\n!!! Do this by hand:\n${manualSteps.map((s, i) => `!!!   ${i + 1}. ${s}`).join('\n')}\n`,
    );
    reasons.push(`${what}: ${restore?.error ?? after.problems.join('; ')}`);
  }
  return finish(reasons.length && verdict === 'pass' ? 'fail' : verdict, reasons, figuresEvent, restore);
}

/** The restore runbook learns the current primary through its `current` input, when it has one. */
async function restoreAfter(
  loaded: LoadedDrill,
  route: ProbeRoute,
  stateDir: string,
  o: DrillOptions,
  io: Output,
  w: WrapContext,
) {
  const restoreFile = loaded.restoreFile!;
  const declared = loadDocument(restoreFile, 'Runbook').data as Runbook;
  const inputs: Record<string, string> = {};
  if (declared.inputs?.current) {
    const current = await currentPrimary(loaded.env, route.connect, w.secret);
    if (!current.node) {
      return {
        status: 'failed' as const,
        error: `cannot restore: ${current.why}`,
        manualSteps: [`make exactly one node primary and route clients to it, then run ${restoreFile}`],
      };
    }
    inputs.current = current.node;
  }
  return runRestore({
    restoreFile,
    inputs,
    inventoryFile: loaded.inventoryFile,
    envName: loaded.env.name,
    stateDir,
    json: o.json,
    io,
    secret: w.secret,
  });
}

/** Faults left behind by a drill that died before reverting them are reverted first. */
export async function revertLeftovers(
  stateDir: string,
  env: EnvContext,
  w: Pick<WrapContext, 'emitter' | 'secret'>,
) {
  for (const left of pendingFaults(stateDir, env.name)) {
    const fault = faults.get(left.kind);
    if (!fault) continue;
    const ctx: FaultContext = {
      env,
      node: left.node,
      durationMs: left.durationMs,
      secret: w.secret,
      log: () => undefined,
    };
    const detail = await fault.revert(ctx);
    forgetFault(stateDir, left.runId);
    w.emitter.emit({
      type: 'fault-reverted',
      kind: left.kind,
      node: left.node,
      detail: `${detail} (left by run ${left.runId})`,
    });
  }
}

async function presentSeqs(connect: Connect, runId: string): Promise<Set<number>> {
  const client = await connect(3000);
  try {
    const { rows } = await client.query<{ seq: number }>(`SELECT seq FROM ${PROBE_TABLE} WHERE run_id = $1`, [
      runId,
    ]);
    return new Set(rows.map((r) => r.seq));
  } finally {
    await client.end().catch(() => undefined);
  }
}
