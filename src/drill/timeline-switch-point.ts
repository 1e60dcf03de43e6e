// Where a new primary's timeline branched off its old one (the switch point), read from the
// timeline's history file: exact, unlike any LSN sampled around the promotion (see the promote
// action's positionAfterPromotion, which is where the WAL was once the promotion finished).
import type { EnvContext } from '../actions/types.js';
import { CURRENT_TIMELINE_SQL } from '../actions/lsn.js';
import { withNode } from '../connectors/postgres.js';

export async function timelineSwitchPoint(
  env: EnvContext,
  node: string,
  secret: (ref: string) => Promise<string>,
): Promise<string | undefined> {
  return withNode(env, node, { secret, connectTimeoutMs: 3000 }, async (client) => {
    const { rows } = await client.query<{ history: string | null }>(
      `SELECT CASE WHEN tli > 1 THEN pg_read_file('pg_wal/' || lpad(upper(to_hex(tli)), 8, '0') || '.history') END AS history
         FROM (SELECT ${CURRENT_TIMELINE_SQL} AS tli) t`,
    );
    const lines = (rows[0]?.history ?? '').split('\n').filter((l) => /^\d+\t/.test(l));
    return lines.at(-1)?.split('\t')[1];
  });
}
