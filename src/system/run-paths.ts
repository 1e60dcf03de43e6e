// Where a run's files live: <state>/runs/<run-id>/journal.jsonl and <state>/locks/<key>.lock. The
// state directory does not depend on the working directory, so the run lock holds for every run on
// this machine and `resume`/`report` work from anywhere.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { UserError } from '../errors.js';

/**
 * The state directory: `--state-dir`, then $DRILLBOOK_STATE_DIR, then $XDG_STATE_HOME/drillbook,
 * then /var/lib/drillbook for root and ~/.local/state/drillbook for anyone else.
 */
export function stateDirOf(option?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (option) return resolve(option);
  if (env.DRILLBOOK_STATE_DIR) return resolve(env.DRILLBOOK_STATE_DIR);
  if (env.XDG_STATE_HOME) return resolve(env.XDG_STATE_HOME, 'drillbook');
  if (process.getuid?.() === 0) return '/var/lib/drillbook';
  return join(homedir(), '.local', 'state', 'drillbook');
}

/** The state holds what journals hold (inputs, outputs): directories 0700, the root made so too. */
export function privateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  return dir;
}

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const runDir = (stateDir: string, runId: string) => resolve(stateDir, 'runs', checkRunId(runId));
export const journalPath = (stateDir: string, runId: string) =>
  join(runDir(stateDir, runId), 'journal.jsonl');
export const lockPath = (stateDir: string, key: string) =>
  resolve(stateDir, 'locks', `${encodeURIComponent(key)}.lock`);

/** Where reports go, relative to the working directory (git-ignored). */
export const DEFAULT_REPORTS_DIR = 'reports';

/** reports/2025-03-01-pg-failover-<run-id>: sorted by date, grouped by runbook when listed. */
export const reportDirName = (header: { createdAt: string; runbook: { name: string }; runId: string }) =>
  `${header.createdAt.slice(0, 10)}-${header.runbook.name}-${header.runId}`;

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
