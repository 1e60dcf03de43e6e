// select-replica: the most advanced replica (highest replay LSN, least lag) among candidates.
import { Type } from '@sinclair/typebox';
import { Duration, Strict, Targets } from '../schema/common.js';
import { defineAction } from './types.js';

export const selectReplica = defineAction({
  kind: 'select-replica',
  summary: 'pick the most advanced replica; refuse one lagging more than maxLagBytes',
  idempotent: true,
  schema: Strict({
    candidates: Targets('node', 'replica nodes to choose from'),
    maxLagBytes: Type.Optional(
      Type.Integer({ minimum: 0, default: 1048576, description: 'refuse a replica further behind (bytes)' }),
    ),
    allowLag: Type.Optional(Type.Boolean({ description: 'accept a replica beyond maxLagBytes (data loss)' })),
    connectTimeout: Type.Optional(Duration()),
  }),
});
