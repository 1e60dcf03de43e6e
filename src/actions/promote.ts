// promote: turn a replica into the primary (idempotent: a primary is reported, not promoted again).
// Both methods only trigger the promotion; drillbook then polls pg_is_in_recovery() every few ms,
// which sees the end ~70 ms sooner than pg_promote(true)'s 100 ms polling (lab facts: ~28 ms).
import { Type } from '@sinclair/typebox';
import type { Client } from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { withNode } from '../connectors/postgres.js';
import { formatDuration, parseDuration } from '../duration.js';
import { StepFailure } from '../errors.js';
import { resolveNode } from '../schema/inventory.js';
import { Duration, Strict, Target, OneOf } from '../schema/common.js';
import { nodeHost, runOnNode } from '../connectors/node-host.js';
import { shq } from '../connectors/shell-quote.js';
import { CURRENT_TIMELINE_SQL } from './lsn.js';
import { defineAction } from './types.js';
import { Ms } from './contract.js';

const DEFAULT_WAIT_MS = 60_000;
const POLL_MS = 2;

const schema = Strict({
  target: Target('node', 'the replica to promote'),
  method: Type.Optional(
    OneOf(['sql', 'pg_ctl'], { default: 'sql', description: 'pg_promote() or pg_ctl promote over SSH' }),
  ),
  wait: Type.Optional(Duration('how long to wait for the promotion to finish (default 60s)')),
});

export const promote = defineAction({
  kind: 'promote',
  summary: 'promote a replica with pg_promote() or pg_ctl promote over SSH',
  idempotent: true,
  schema,
  outputs: Strict({
    node: Type.String(),
    alreadyPrimary: Type.Boolean(),
    promotionMs: Ms('from the promote call until the node leaves recovery'),
    lsn: Type.String({ description: 'pg_current_wal_lsn() once primary' }),
    timeline: Type.Integer({ description: 'the new timeline' }),
  }),
  example: { id: 'promote', with: { target: '${{ steps.pick.outputs.node }}', method: 'sql' } },
  async run(ctx, input) {
    const node = resolveNode(ctx.env, input.target);
    const method = input.method ?? 'sql';
    // Checked before connecting: a bad inventory is bad input, not a failed promotion.
    const host = method === 'pg_ctl' ? nodeHost(ctx.env, node, 'promote with method pg_ctl') : undefined;
    return withNode(ctx.env, node, { signal: ctx.signal, secret: ctx.secret }, async (client) => {
      if (!(await inRecovery(client))) {
        ctx.log(`${node} is already primary, not promoted again`);
        return { node, alreadyPrimary: true, promotionMs: 0, ...(await positionAfterPromotion(client)) };
      }
      const started = performance.now();
      if (host) {
        await runOnNode(
          ctx,
          host,
          'pg_ctl promote',
          `${host.tool('pg_ctl')} promote -W -D ${shq(host.dataDir)}`,
        );
      } else {
        const { rows } = await client.query<{ ok: boolean }>('SELECT pg_promote(false) AS ok');
        if (!rows[0]?.ok) throw new StepFailure(`${node}: pg_promote() could not signal the postmaster`);
      }
      const waitMs = parseDuration(input.wait ?? '') ?? DEFAULT_WAIT_MS;
      while (await inRecovery(client)) {
        if (performance.now() - started > waitMs) {
          throw new StepFailure(
            `${node}: still in recovery ${formatDuration(waitMs)} after the promotion was requested; see its server log`,
          );
        }
        await sleep(POLL_MS, undefined, { signal: ctx.signal });
      }
      const promotionMs = Math.round((performance.now() - started) * 10) / 10;
      const point = await positionAfterPromotion(client);
      ctx.log(
        `${node} promoted in ${promotionMs} ms (${method}), timeline ${point.timeline}, at ${point.lsn}`,
      );
      return { node, alreadyPrimary: false, promotionMs, ...point };
    });
  },
  async dryRun(ctx, input) {
    const how = input.method === 'pg_ctl' ? 'pg_ctl promote over SSH' : 'pg_promote()';
    return `would promote ${resolveNode(ctx.env, input.target)} with ${how} unless it is already primary`;
  },
  async alreadyDone(ctx, input) {
    const node = resolveNode(ctx.env, input.target);
    return withNode(ctx.env, node, { signal: ctx.signal, secret: ctx.secret }, async (client) =>
      (await inRecovery(client))
        ? undefined
        : { node, alreadyPrimary: true, promotionMs: 0, ...(await positionAfterPromotion(client)) },
    );
  },
});

async function inRecovery(client: Client): Promise<boolean> {
  const { rows } = await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
  return rows[0]!.r;
}

/**
 * Where the WAL is now and on which timeline: read once the node is primary, so at or past the
 * timeline switch point (src/drill/timeline-switch-point.ts reads that one exactly).
 */
async function positionAfterPromotion(client: Client): Promise<{ lsn: string; timeline: number }> {
  const { rows } = await client.query<{ lsn: string; timeline: number }>(
    `SELECT pg_current_wal_lsn()::text AS lsn, ${CURRENT_TIMELINE_SQL} AS timeline`,
  );
  return rows[0]!;
}
