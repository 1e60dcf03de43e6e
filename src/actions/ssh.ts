// ssh: a command on a host, host key verified against known_hosts.
import { Type } from '@sinclair/typebox';
import { Strict, Target, Text } from '../schema/common.js';
import { sshExec } from '../connectors/ssh.js';
import { StepFailure } from '../errors.js';
import { defineAction } from './types.js';
import { OrNull } from './contract.js';

export const ssh = defineAction({
  kind: 'ssh',
  summary: 'run a command on an SSH host (host key pinned); exit code, stdout, stderr as outputs',
  schema: Strict({
    host: Target('ssh'),
    command: Text(),
    allowFailure: Type.Optional(Type.Boolean({ description: 'a non-zero exit does not fail the step' })),
    idempotent: Type.Optional(Type.Boolean({ description: 'safe to re-run on resume' })),
  }),
  outputs: Strict({
    exitCode: OrNull(Type.Integer({ description: 'null when a signal ended it' })),
    stdout: Type.String(),
    stderr: Type.String(),
  }),
  example: { id: 'disk', with: { host: 'pg1', command: 'df -h /var/lib/postgresql' } },
  async run(ctx, input) {
    const r = await sshExec(ctx.env, input.host, input.command, { signal: ctx.signal, secret: ctx.secret });
    const outputs = { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
    if (r.exitCode !== 0 && !input.allowFailure) {
      const why = r.exitCode === null ? `killed by ${r.signal}` : `exited with code ${r.exitCode}`;
      const last = r.stderr.split('\n').at(-1);
      // Retryable: a command may succeed next time, and `retry:` is the author saying so.
      throw new StepFailure(`${input.host}: command ${why}${last ? `: ${last}` : ''}`, { retryable: true });
    }
    return outputs;
  },
  async dryRun(_ctx, input) {
    return `would run on ${input.host} over SSH: ${input.command}`;
  },
});
