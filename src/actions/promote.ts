// promote: turn a replica into the primary (idempotent: a primary is reported, not promoted again).
import { Type } from '@sinclair/typebox';
import { Duration, Strict, Target, OneOf } from '../schema/common.js';
import { defineAction } from './types.js';

export const promote = defineAction({
  kind: 'promote',
  summary: 'promote a replica with pg_promote() or pg_ctl promote over SSH',
  idempotent: true,
  schema: Strict({
    target: Target('node', 'the replica to promote'),
    method: Type.Optional(OneOf(['sql', 'pg_ctl'], { default: 'sql' })),
    wait: Type.Optional(Duration('how long to wait for the promotion to finish')),
  }),
});
