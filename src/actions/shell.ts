// shell: a local command; non-zero exit fails the step.
import { Type } from '@sinclair/typebox';
import { Strict, Text } from '../schema/common.js';
import { defineAction } from './types.js';

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
});
