// shell: a local command; non-zero exit fails the step.
import { Type } from '@sinclair/typebox';
import { Strict, Text } from '../schema/common.js';
import { StepFailure } from '../errors.js';
import { defineAction } from './types.js';
import { OrNull } from './contract.js';

/** After SIGTERM, what survives in the process group gets SIGKILL this much later. */
const KILL_GRACE_MS = 1000;

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
    const { $ } = await import('zx');
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
    })(Object.assign([input.command], { raw: [input.command] }));
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
        throw new StepFailure(`command ${why}${last ? `: ${last}` : ''}`, { retryable: true });
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
