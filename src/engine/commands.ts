// `drillbook run` and `drillbook resume` behind the thin CLI modules (loaded lazily by them).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { actions } from '../actions/registry.js';
import { namedSecrets } from '../connectors/secrets.js';
import { parseDuration } from '../duration.js';
import { ExitCode, UserError } from '../errors.js';
import { parseSets } from '../runbook/inputs.js';
import { prepareRun, type PreparedRun } from '../runbook/prepare.js';
import type { Output } from '../system/output.js';
import type { EvidenceOptions } from '../report/evidence.js';
import type { OrphanPolicy } from './children.js';
import { secretNames } from './context.js';
import { dryRun, formatDryRun } from './dry-run.js';
import { JOURNAL_VERSION, readJournal, type JournalHeader } from './journal.js';
import { checkRunId, journalPath, newRunId, stateDirOf } from '../system/run-paths.js';
import { resumeState } from './resume.js';
import { checkExecutable, type RunSpec } from './runner.js';
import { operatorName, runSession } from './session.js';

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

const sha256Of = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

function specOf(prepared: PreparedRun, runId: string, runbookPath: string, sha256: string): RunSpec {
  checkExecutable(prepared.runbook);
  return {
    runId,
    runbook: prepared.runbook,
    runbookPath,
    runbookSha256: sha256,
    env: prepared.env,
    inputs: prepared.inputs,
    secrets: namedSecrets(secretNames(prepared.runbook)),
    operator: operatorName(),
  };
}

export async function runCommand(o: RunOptions, io: Output): Promise<number> {
  const prepared = prepareRun({
    runbookFile: o.runbookFile,
    inventoryFile: o.inventoryFile,
    envName: o.envName,
    inputs: parseSets(o.set ?? []),
  });
  if (o.dryRun) {
    const d = await dryRun(prepared);
    io.out(o.json ? JSON.stringify(d, null, 2) : formatDryRun(d));
    return ExitCode.ok;
  }
  const { spec, header } = newRun(prepared, o.runbookFile, o.runId);
  return runSession(spec, { ...o, stateDir: stateDirOf(o.stateDir), header }, io);
}

/** The spec and journal header of a new run of a prepared runbook (also used by drills). */
export function newRun(
  prepared: PreparedRun,
  runbookFile: string,
  runId?: string,
): { spec: RunSpec; header: JournalHeader } {
  const runbookPath = resolve(runbookFile);
  const sha256 = sha256Of(runbookPath);
  const id = runId ? checkRunId(runId) : newRunId(prepared.runbook.metadata.name);
  const spec = specOf(prepared, id, runbookPath, sha256);
  const header: JournalHeader = {
    type: 'journal',
    version: JOURNAL_VERSION,
    runId: id,
    createdAt: new Date().toISOString(),
    runbook: { name: prepared.runbook.metadata.name, path: runbookPath, sha256 },
    inventory: prepared.inventory.file,
    environment: { name: prepared.env.name, label: prepared.env.label },
    inputs: prepared.inputs,
    operator: spec.operator,
    pid: process.pid,
  };
  return { spec, header };
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
  return runSession(
    specOf(prepared, o.runId, header.runbook.path, sha256),
    { ...o, stateDir, resume: state, orphans: { policy: o.orphans ?? 'wait', waitMs: orphanWaitMs } },
    io,
  );
}
