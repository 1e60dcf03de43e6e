// Where a run's files live: <state>/runs/<run-id>/journal.jsonl and <state>/locks/<key>.lock.
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { UserError } from '../errors.js';

/** The state directory, relative to the working directory (git-ignored). */
export const DEFAULT_STATE_DIR = '.drillbook';

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const runDir = (stateDir: string, runId: string) => resolve(stateDir, 'runs', checkRunId(runId));
export const journalPath = (stateDir: string, runId: string) =>
  join(runDir(stateDir, runId), 'journal.jsonl');
export const lockPath = (stateDir: string, key: string) =>
  resolve(stateDir, 'locks', `${encodeURIComponent(key)}.lock`);

export function checkRunId(runId: string): string {
  if (!RUN_ID.test(runId) || runId.includes('..'))
    throw new UserError(`invalid run id "${runId}": letters, digits, dot, dash and underscore only`);
  return runId;
}

/** Sortable and unique enough: 20250131-101500-pg-failover-3fa2. */
export function newRunId(runbookName: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${runbookName}-${randomBytes(2).toString('hex')}`;
}
