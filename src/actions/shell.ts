// shell: a local command; non-zero exit fails the step.
import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { constants } from 'node:os';
import type { Socket } from 'node:net';
import { delimiter, join, resolve as absolute } from 'node:path';
import type { Writable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { Strict, Text } from '../schema/common.js';
import { StepFailure } from '../errors.js';
import { defineAction, type ActionContext } from './types.js';
import { shellZygote, type ZygoteRun } from './shell-zygote.js';
import { OrNull } from './contract.js';

/** After SIGTERM, what survives in the process group gets SIGKILL this much later. */
const KILL_GRACE_MS = 1000;

/**
 * Kills, when drillbook dies (even by SIGKILL), the process group of every command still running:
 * one bash per drillbook process reads "+ PID" / "- PID" lines from a pipe only drillbook holds, and
 * at its end of file (drillbook is gone) kills the groups it still lists. One watcher for all
 * steps, so a step pays no wrapper process: only the spawn of its own shell.
 */
const REAPER = `declare -A live
while read -r op pid; do
  if [[ $op == + ]]; then live[$pid]=1; else unset "live[$pid]"; fi
done
for pid in "\${!live[@]}"; do kill -KILL -- "-$pid" 2>/dev/null; done`;

let reaper: Writable | undefined;
function watcher(shellPath: string): Writable {
  if (reaper) return reaper;
  // Its own session: a Ctrl-C or hang-up meant for drillbook's terminal does not reach it.
  const proc = spawn(shellPath, ['-c', REAPER], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  proc.on('error', () => undefined); // no watcher: the commands still run, a resume finds them
  proc.stdin.on('error', () => undefined);
  proc.unref(); // it never keeps drillbook alive; drillbook's exit is its cue
  (proc.stdin as unknown as Socket).unref();
  reaper = proc.stdin;
  return reaper;
}

/** Commands run in bash (found on PATH once, as a user's shell would find it). */
let bash: string | undefined;
function findBash(): string {
  bash ??= (process.env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, 'bash'))
    .find((path) => {
      try {
        accessSync(path, fsConstants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
  if (!bash) throw new StepFailure('bash not found on PATH');
  return bash;
}

interface Finished {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export const shell = defineAction({
  kind: 'shell',
  summary: 'run a local shell command; stdout, stderr, exit code as outputs',
  schema: Strict({
    command: Text(),
    cwd: Type.Optional(Text()),
    env: Type.Optional(Type.Record(Type.String(), Type.String())),
    allowFailure: Type.Optional(Type.Boolean()),
    idempotent: Type.Optional(Type.Boolean({ description: 'safe to re-run on resume' })),
  }),
  outputs: Strict({
    exitCode: OrNull(Type.Integer({ description: 'null when a signal ended it' })),
    stdout: Type.String(),
    stderr: Type.String(),
  }),
  example: { id: 'snapshot', with: { command: 'date -u +%FT%TZ', allowFailure: false } },
  async run(ctx, input) {
    const shellPath = findBash();
    const env = { ...ctx.childEnv(), ...input.env };
    const fork = (): ZygoteRun | undefined => {
      const zygote = shellZygote(shellPath);
      const envScript = zygote.envScript(env);
      return envScript === undefined
        ? undefined
        : zygote.run(absolute(input.cwd ?? '.'), envScript, input.command);
    };
    const run = fork();
    const out = run
      ? await forked(ctx, run, fork)
      : await spawned(ctx, shellPath, input.command, input.cwd, env);
    const outputs = { exitCode: out.exitCode, stdout: out.stdout.trimEnd(), stderr: out.stderr.trimEnd() };
    if (out.exitCode !== 0 && !input.allowFailure) {
      const why = out.exitCode === null ? `killed by ${out.signal}` : `exited with code ${out.exitCode}`;
      const last = outputs.stderr.split('\n').at(-1);
      // Retryable: a command may succeed next time, and `retry:` is the author saying so.
      throw new StepFailure(`command ${why}${last ? `: ${last}` : ''}`, { retryable: true });
    }
    return outputs;
  },
  async dryRun(_ctx, input) {
    return `would run: ${input.command}${input.cwd ? ` (in ${input.cwd})` : ''}`;
  },
});

/**
 * The command forked by the zygote; a timeout or cancel stops its process group. A zygote that
 * died before it started the command (it never said its pid) is replaced once: `again`.
 */
async function forked(
  ctx: ActionContext,
  first: ZygoteRun,
  again: () => ZygoteRun | undefined,
): Promise<Finished> {
  let run = first;
  let pid: number | undefined;
  const stop = () => killGroup(pid);
  ctx.signal.addEventListener('abort', stop, { once: true });
  try {
    pid = await run.pid.catch((err: unknown) => {
      const retry = again();
      if (!retry) throw err;
      run = retry;
      return retry.pid;
    });
    ctx.child?.(pid);
    if (ctx.signal.aborted) stop();
    const status = await run.status;
    // `wait` says 128 + N when signal N ended the command (a command's own exit 128 + N reads the same).
    const signal = status > 128 ? signalName(status - 128) : undefined;
    return { exitCode: signal ? null : status, signal: signal ?? null, ...run.output() };
  } catch (err) {
    killGroup(pid); // whatever it still runs has no one left to report its end
    throw new StepFailure(`cannot run the command: ${(err as Error).message}`);
  } finally {
    ctx.signal.removeEventListener('abort', stop);
  }
}

const signalName = (n: number) =>
  (Object.entries(constants.signals) as [NodeJS.Signals, number][]).find(([, v]) => v === n)?.[0];

/** The command in a bash of its own: for an environment the zygote cannot export (a name bash rejects). */
async function spawned(
  ctx: ActionContext,
  shellPath: string,
  command: string,
  cwd: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<Finished> {
  const dieWithDrillbook = watcher(shellPath);
  // The command runs as written, in its own process group (detached) so a timeout or Ctrl-C can
  // stop everything it started, not only the shell.
  const proc = spawn(shellPath, ['-c', command], {
    cwd,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  proc.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  proc.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const finished = new Promise<Finished>((resolve, reject) => {
    proc.once('error', (err) => reject(new StepFailure(`cannot start the command: ${err.message}`)));
    proc.once('close', (exitCode, signal) =>
      resolve({
        exitCode,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      }),
    );
  });
  if (proc.pid) {
    const pid = proc.pid;
    dieWithDrillbook.write(`+ ${pid}\n`);
    proc.once('exit', () => dieWithDrillbook.write(`- ${pid}\n`));
    ctx.child?.(pid);
  }
  const stop = () => killGroup(proc.pid);
  ctx.signal.addEventListener('abort', stop, { once: true });
  if (ctx.signal.aborted) stop();
  try {
    return await finished;
  } finally {
    ctx.signal.removeEventListener('abort', stop);
  }
}

/** SIGTERM to the whole process group, SIGKILL to whatever is left after a grace period. */
function killGroup(pid: number | undefined): void {
  if (!pid) return;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
      return true;
    } catch {
      return false; // the group is gone
    }
  };
  if (signal('SIGTERM')) setTimeout(() => signal('SIGKILL'), KILL_GRACE_MS);
}
