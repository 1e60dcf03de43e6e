// sql: a query on a node, parameters always bound (never interpolated into the text).
import { Type } from '@sinclair/typebox';
import { SqlParams, SqlText, Strict, Target, Text } from '../schema/common.js';
import { withNode } from '../connectors/postgres.js';
import { resolveNode } from '../schema/inventory.js';
import { defineAction } from './types.js';

export const sql = defineAction({
  kind: 'sql',
  summary: 'run SQL on a node with bound parameters; rows as outputs',
  sqlFields: ['query'],
  schema: Strict({
    target: Target('node'),
    query: SqlText('SQL text; $1, $2 ... are the params'),
    params: SqlParams,
    database: Type.Optional(Text()),
    idempotent: Type.Optional(Type.Boolean({ description: 'safe to re-run on resume' })),
  }),
  outputs: Strict({
    rows: Type.Array(Type.Record(Type.String(), Type.Unknown())),
    rowCount: Type.Integer({ minimum: 0 }),
  }),
  example: {
    id: 'count-orders',
    with: {
      target: 'primary',
      query: 'SELECT count(*) AS n FROM orders WHERE placed_at > $1',
      params: ['2024-01-01'],
    },
  },
  async run(ctx, input) {
    const options = { signal: ctx.signal, secret: ctx.secret, database: input.database };
    return withNode(ctx.env, input.target, options, async (client) => {
      // Values travel separately from the text (extended protocol): the server never parses them as SQL.
      const result = await client.query({ text: input.query, values: input.params ?? [] });
      return { rows: result.rows, rowCount: result.rowCount ?? 0 };
    });
  },
  async dryRun(ctx, input) {
    const params = input.params?.length ? ` with parameters ${JSON.stringify(input.params)}` : '';
    return `would run on ${resolveNode(ctx.env, input.target)}: ${input.query}${params}`;
  },
});
