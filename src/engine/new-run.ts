// A run's spec (everything fixed before its first step) and, for a new run, its journal header.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { namedSecrets } from '../connectors/secrets.js';
import type { PreparedRun } from '../runbook/prepare.js';
import { secretNames } from './context.js';
import { JOURNAL_VERSION, type JournalHeader } from './journal.js';
import { checkRunId, newRunId } from '../system/run-paths.js';
import { checkExecutable, type RunSpec } from './run-spec.js';

export const operatorName = () => `${userInfo().username}@${hostname()}`;

export const sha256Of = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

export function specOf(prepared: PreparedRun, runId: string, runbookPath: string, sha256: string): RunSpec {
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

/** The spec and journal header of a new run of a prepared runbook (commands, drills, restores). */
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
