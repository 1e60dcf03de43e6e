// shell: a local command; non-zero exit fails the step.
import { existsSync } from 'node:fs';
import { Type } from '@sinclair/typebox';
import { Strict, Text } from '../schema/common.js';
import { StepFailure } from '../errors.js';
import { defineAction } from './types.js';

/** After SIGTERM, what survives in the process group gets SIGKILL this much later. */
const KILL_GRACE_MS = 1000;

/** util-linux's setpriv, which arms a parent-death signal before it execs (Node cannot). */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

/**
 * The command's group dies with drillbook, even by SIGKILL: setpriv gives the wrapper shell (the
 * group leader) SIGHUP when drillbook dies, and the wrapper then kills its whole group. A parent-
 * death signal is not inherited by the command's own children, hence the group kill. Without
 * setpriv the command runs as before; a resume still finds it through the journal.
 */
const GUARD = 'trap "kill -KILL 0" HUP; "$2" -c "$1" & wait $!';

function dieWithDrillbook(command: string, shell: string, quote: (s: string) => string): string {
  if (!SETPRIV) return command;
  return `exec ${SETPRIV} --pdeathsig SIGHUP -- /bin/sh -c ${quote(GUARD)} drillbook-step ${quote(command)} ${quote(shell)}`;
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
  async run(ctx, input) {
    const { $ } = await import('zx');
    const command = dieWithDrillbook(input.command, String($.shell), $.quote!);
    // The command runs as written (no zx prefix such as `set -euo pipefail`), in its own process
    // group (detached) so a timeout or Ctrl-C can stop everything it started, not only the shell.
    const proc = $({
      cwd: input.cwd,
      env: { ...ctx.childEnv(), ...input.env },
      nothrow: true,
      quiet: true,
      verbose: false,
      detached: true,
      prefix: '',
      postfix: '',
      stdio: ['ignore', 'pipe', 'pipe'],
    })(Object.assign([command], { raw: [command] }));
    if (proc.pid) ctx.child?.(proc.pid);
    const stop = () => killGroup(proc.pid);
    ctx.signal.addEventListener('abort', stop, { once: true });
    if (ctx.signal.aborted) stop();
    try {
      const out = await proc;
      const outputs = { exitCode: out.exitCode, stdout: out.stdout.trimEnd(), stderr: out.stderr.trimEnd() };
      if (out.exitCode !== 0 && !input.allowFailure) {
        const why = out.exitCode === null ? `killed by ${out.signal}` : `exited with code ${out.exitCode}`;
        const last = outputs.stderr.split('\n').at(-1);
        // Retryable: a command may succeed next time, and `retry:` is the author saying so.
        throw new StepFailure(`command ${why}${last ? `: ${last}` : ''}`, undefined, true);
      }
      return outputs;
    } finally {
      ctx.signal.removeEventListener('abort', stop);
    }
  },
  async dryRun(_ctx, input) {
    return `would run: ${input.command}${input.cwd ? ` (in ${input.cwd})` : ''}`;
  },
});

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
