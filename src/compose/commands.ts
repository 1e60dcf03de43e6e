// `drillbook run` and `drillbook resume` behind the thin CLI modules (loaded lazily by them): a
// prepared runbook or a journal to resume becomes a standard session.
import { actions } from '../actions/registry.js';
import type { Output } from '../system/output.js';
import { parseDuration } from '../duration.js';
import type { OrphanPolicy } from '../engine/children.js';
import { dryRun, formatDryRun } from '../engine/dry-run.js';
import { readJournal } from '../engine/journal.js';
import { newRun, sha256Of, specOf } from '../engine/new-run.js';
import { journalPath, stateDirOf } from '../system/run-paths.js';
import { resumeState } from '../engine/resume.js';
import { ExitCode, UserError } from '../errors.js';
import type { EvidenceOptions } from '../report/evidence.js';
import { parseSets } from '../runbook/inputs.js';
import { prepareRun } from '../runbook/prepare.js';
import { standardSession } from './session.js';

/** Reports and the Slack thread pass through to the session. */
interface CommonOptions extends EvidenceOptions {
  json?: boolean;
  yes?: boolean;
  approve?: string[];
  /** Where runs and locks live (default: stateDirOf's, the same whatever the working directory). */
  stateDir?: string;
}

export interface RunOptions extends CommonOptions {
  runbookFile: string;
  envName: string;
  inventoryFile?: string;
  set?: string[];
  dryRun?: boolean;
  runId?: string;
}

export interface ResumeOptions extends CommonOptions {
  runId: string;
  inventoryFile?: string;
  retryInterrupted?: boolean;
  skipInterrupted?: boolean;
  /** A command the crashed run left running: wait for it (default) or kill its process group. */
  orphans?: OrphanPolicy;
  /** With orphans "wait": how long before the resume is refused (a duration, default 60s). */
  orphanWait?: string;
}

export async function runCommand(o: RunOptions, io: Output): Promise<number> {
  const prepared = prepareRun({
    runbookFile: o.runbookFile,
    inventoryFile: o.inventoryFile,
    envName: o.envName,
    inputs: parseSets(o.set ?? []),
  });
  if (o.dryRun) {
    const d = await dryRun(prepared, stateDirOf(o.stateDir));
    io.out(o.json ? JSON.stringify(d, null, 2) : formatDryRun(d));
    return ExitCode.ok;
  }
  const { spec, header } = newRun(prepared, o.runbookFile, o.runId);
  return standardSession(spec, { ...o, stateDir: stateDirOf(o.stateDir), header }, io);
}

export async function resumeCommand(o: ResumeOptions, io: Output): Promise<number> {
  const stateDir = stateDirOf(o.stateDir);
  const orphanWaitMs = parseDuration(o.orphanWait ?? '60s');
  if (orphanWaitMs === undefined)
    throw new UserError(`--orphan-wait must be a duration such as 60s (got "${o.orphanWait}")`);
  const journal = readJournal(journalPath(stateDir, o.runId));
  const { header } = journal;
  let sha256: string;
  try {
    sha256 = sha256Of(header.runbook.path);
  } catch {
    throw new UserError(`run ${o.runId}: its runbook ${header.runbook.path} is gone; resume refused`);
  }
  if (sha256 !== header.runbook.sha256) {
    throw new UserError(
      `run ${o.runId}: ${header.runbook.path} changed since the run started (sha256 ${header.runbook.sha256.slice(0, 12)} → ${sha256.slice(0, 12)}); resume refused, start a new run`,
    );
  }
  const prepared = prepareRun({
    runbookFile: header.runbook.path,
    inventoryFile: o.inventoryFile ?? header.inventory,
    envName: header.environment.name,
    inputs: header.inputs,
  });
  const state = resumeState(journal, prepared.runbook, actions, o);
  return standardSession(
    specOf(prepared, o.runId, header.runbook.path, sha256),
    { ...o, stateDir, resume: state, orphans: { policy: o.orphans ?? 'wait', waitMs: orphanWaitMs } },
    io,
  );
}
