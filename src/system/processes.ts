// Long-running lab servers: started detached, tracked and stopped by PID only (never by name).
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { childEnv } from './child-env.js';
import { StepFailure } from '../errors.js';
import { userIds } from './exec.js';
import type { OsUser } from './os-user.js';

export interface DetachedOptions {
  logFile: string;
  as?: OsUser;
  env?: NodeJS.ProcessEnv;
}

/** Starts a server in its own session, output appended to logFile, and returns its PID at once. */
export function spawnDetached(command: string, args: readonly string[], options: DetachedOptions): number {
  const log = openSync(options.logFile, 'a', 0o600);
  try {
    const child = spawn(command, args, {
      detached: true,
      stdio: ['ignore', log, log],
      env: { ...childEnv(), ...options.env },
      ...userIds(options.as),
      // Another user may not reach our working directory (a 0700 clone): initdb and pg_ctl fail
      // when they cannot read the directory they start in, so such a daemon starts in /.
      ...(options.as && { cwd: '/' }),
    });
    if (child.pid === undefined) throw new StepFailure(`cannot start ${command}`);
    // Keep the error listener: a spawn failure must not crash the caller after it returned.
    child.on('error', () => undefined);
    child.unref();
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/**
 * Whether pid runs a process of this lab: alive, not a zombie, and its command line mentions
 * `marker` (the lab directory) so a recycled PID is never mistaken for a lab server.
 */
/** Whether a process with this pid exists (another user's counts: EPERM). */
export const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

export function isLabProcess(pid: number | undefined, marker: string): boolean {
  if (!pid || pid <= 0) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(marker);
  } catch {
    return false;
  }
}

/** Sends `signal`, waits up to timeoutMs for the exit, then SIGKILL; resolves once pid is gone. */
export async function stopProcess(
  pid: number,
  marker: string,
  signal: NodeJS.Signals = 'SIGTERM',
  timeoutMs = 10_000,
): Promise<void> {
  if (!isLabProcess(pid, marker)) return;
  signalQuietly(pid, signal);
  if (await waitFor(() => !isLabProcess(pid, marker), timeoutMs)) return;
  signalQuietly(pid, 'SIGKILL');
  if (!(await waitFor(() => !isLabProcess(pid, marker), 5_000))) {
    throw new StepFailure(`process ${pid} did not exit after SIGKILL`);
  }
}

function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone between the check and the signal.
  }
}

/** Polls `condition` every intervalMs; true as soon as it holds, false after timeoutMs. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The last lines of a log, to explain why a server did not come up. */
export function logTail(file: string, lines = 8): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
