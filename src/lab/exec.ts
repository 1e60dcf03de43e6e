// Runs a short-lived command to completion and captures its output; failures carry stderr.
import { spawn } from 'node:child_process';
import { childEnv } from '../connectors/secrets.js';
import { StepFailure } from '../errors.js';
import type { OsUser } from './os-user.js';

export interface RunOptions {
  /** Run as this user (only differs from the caller when the lab is started as root). */
  as?: OsUser;
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Aborting kills the command (SIGTERM); the promise then rejects. */
  signal?: AbortSignal;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: {
        ...childEnv(),
        ...(options.as ? { HOME: options.as.home, USER: options.as.name } : {}),
        ...options.env,
      },
      ...userIds(options.as),
      // Own session: a Ctrl-C in the caller's terminal must not reach servers forked by this command.
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      signal: options.signal,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (err) =>
      reject(new StepFailure(`cannot run ${command}: ${err.message}`, { stepId: 'lab' })),
    );
    child.on('close', (code, signal) => {
      if (code === 0) return resolve({ stdout, stderr });
      const how = signal ? `was killed by ${signal}` : `exited with ${code}`;
      const detail = (stderr.trim() || stdout.trim()).split('\n').slice(-5).join('\n');
      reject(
        new StepFailure(`${command} ${args.join(' ')} ${how}${detail ? `:\n${detail}` : ''}`, {
          stepId: 'lab',
        }),
      );
    });
    // A command may exit without reading its input; that is its answer, not an EPIPE crash.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** spawn() options that switch to another user; empty when no switch is needed. */
export function userIds(user: OsUser | undefined): { uid?: number; gid?: number } {
  if (!user || user.uid === process.getuid?.()) return {};
  return { uid: user.uid, gid: user.gid };
}
