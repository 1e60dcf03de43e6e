// sql: a query on a node, parameters always bound (never interpolated into the text).
import { Type } from '@sinclair/typebox';
import { Strict, Target, Text } from '../schema/common.js';
import { defineAction } from './types.js';

export const sql = defineAction({
  kind: 'sql',
  summary: 'run SQL on a node with bound parameters; rows as outputs',
  schema: Strict({
    target: Target('node'),
    query: Type.String({ description: 'SQL text; use $1, $2 ... for values, never expressions' }),
    params: Type.Optional(
      Type.Array(Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()])),
    ),
    database: Type.Optional(Text()),
    idempotent: Type.Optional(Type.Boolean({ description: 'safe to re-run on resume' })),
  }),
});
