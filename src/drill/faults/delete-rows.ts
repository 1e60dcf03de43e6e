// delete-rows: the accidental DELETE (a missing WHERE, the wrong environment in a script). Clients
// go on writing; the data is what is harmed, so the drill measures when the runbook has it back.
// The fault records the server's clock just before the rows went: point-in-time recovery to that
// instant must bring back every row committed before it.
import { withNode } from '../../connectors/postgres.js';
import { StepFailure } from '../../errors.js';
import { PROBE_TABLE } from '../probe.js';
import { FAULT_FACTS } from '../../schema/fault-facts.js';
import type { Fault } from './types.js';

export const deleteRows: Fault = {
  kind: 'delete-rows',
  timed: false,
  harms: 'data',
  facts: FAULT_FACTS['delete-rows'],
  async inject(ctx) {
    const table = ctx.options?.table ?? PROBE_TABLE;
    return withNode(ctx.env, ctx.node, { secret: ctx.secret, signal: ctx.signal }, async (client) => {
      // REPEATABLE READ fixes the snapshot at the first statement, before the clock is read: every
      // row the DELETE sees was committed before `time`, so recovering to `time` brings it back.
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      try {
        const { rows } = await client.query<{
          relation: string | null;
          time: string;
          lsn: string;
          xid: string;
        }>(
          `SELECT to_regclass($1)::text AS relation,
                  to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00' AS time,
                  pg_current_wal_lsn()::text AS lsn, txid_current()::text AS xid`,
          [table],
        );
        const before = rows[0]!;
        if (!before.relation)
          throw new StepFailure(`delete-rows: table ${table} does not exist on ${ctx.node}`);
        const where = ctx.options?.where ? ` WHERE ${ctx.options.where}` : '';
        const deleted = await client.query(`DELETE FROM ${before.relation}${where}`);
        await client.query('COMMIT');
        const at = performance.now();
        const count = deleted.rowCount ?? 0;
        ctx.log(
          `deleted ${count} row(s) from ${before.relation} on ${ctx.node} at ${before.time} (xid ${before.xid})`,
        );
        return {
          at,
          facts: { time: before.time, lsn: before.lsn, xid: before.xid, rows: count, table: before.relation },
        };
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  },
  revert: async () => 'nothing to undo: the runbook recovers the deleted rows',
};
