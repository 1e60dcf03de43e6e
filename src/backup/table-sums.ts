// Row counts and checksums of chosen tables, taken at backup time and compared after a restore.
import type { Client } from 'pg';
import { StepFailure } from '../errors.js';
import type { TableSum } from './catalog.js';

/**
 * The checksum is the sum of the first 60 bits of each row's md5 (a numeric, so no overflow): it
 * does not depend on row order, so a heap rewritten by a restore compares equal, and it counts
 * duplicate rows (an XOR would cancel them out). No sort, so it stays cheap on large tables.
 */
const SUM_SQL = (relation: string) =>
  `SELECT count(*)::bigint AS rows, coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint), 0)::text AS checksum FROM ${relation} t`;

export async function tableSums(
  client: Client,
  database: string,
  tables: readonly string[],
): Promise<TableSum[]> {
  const sums: TableSum[] = [];
  for (const table of tables) {
    // regclass quotes the name for us: the table name never becomes SQL text unchecked.
    const found = await client.query<{ name: string | null }>('SELECT to_regclass($1)::text AS name', [
      table,
    ]);
    const relation = found.rows[0]?.name;
    if (!relation) throw new StepFailure(`table ${table} does not exist in database ${database}`);
    const { rows } = await client.query<{ rows: string; checksum: string }>(SUM_SQL(relation));
    sums.push({ database, table, rows: Number(rows[0]!.rows), checksum: rows[0]!.checksum });
  }
  return sums;
}

/** The differences between the sums at backup time and now, one line each; empty when equal. */
export function compareSums(expected: readonly TableSum[], actual: readonly TableSum[]): string[] {
  return expected.flatMap((e) => {
    const a = actual.find((x) => x.database === e.database && x.table === e.table);
    if (!a) return [`${e.database}.${e.table}: missing`];
    if (a.rows !== e.rows) return [`${e.database}.${e.table}: ${a.rows} rows, ${e.rows} at backup time`];
    if (a.checksum !== e.checksum)
      return [`${e.database}.${e.table}: same ${a.rows} rows but a different checksum`];
    return [];
  });
}
