// ssh: a command on a host, host key verified against known_hosts.
import { Type } from '@sinclair/typebox';
import { Strict, Target, Text } from '../schema/common.js';
import { defineAction } from './types.js';

export const ssh = defineAction({
  kind: 'ssh',
  summary: 'run a command on an SSH host (host key pinned); exit code, stdout, stderr as outputs',
  schema: Strict({
    host: Target('ssh'),
    command: Text(),
    allowFailure: Type.Optional(Type.Boolean({ description: 'a non-zero exit does not fail the step' })),
    idempotent: Type.Optional(Type.Boolean({ description: 'safe to re-run on resume' })),
  }),
});
