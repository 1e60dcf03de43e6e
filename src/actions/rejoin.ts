// rejoin: the old primary becomes a replica of the new one (pg_rewind over SSH).
import { Type } from '@sinclair/typebox';
import { Duration, Strict, Target } from '../schema/common.js';
import { defineAction } from './types.js';

export const rejoin = defineAction({
  kind: 'rejoin',
  summary: 'rewind the old primary with pg_rewind and start it as a replica of the new primary',
  schema: Strict({
    target: Target('node', 'the old primary to turn into a replica'),
    primary: Target('node', 'the current primary to follow'),
    rewind: Type.Optional(Type.Boolean({ default: true })),
    waitStreaming: Type.Optional(Duration('how long to wait until it streams')),
  }),
});
