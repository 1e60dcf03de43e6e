// Putting recovered rows back: after an accidental DELETE the fix is not to fail over to the past
// but to copy the lost rows from the recovered instance into the live database. Rows travel as JSON
// in batches through a cursor (no table is held in memory), and rows whose key is still there are
// left alone (ON CONFLICT DO NOTHING), so the copy is safe to repeat and never duplicates a row.
import type { Client } from 'pg';
import { StepFailure, errorMessage } from '../errors.js';

const BATCH_ROWS = 5000;

export interface CopyBackRequest {
  table: string;
  /** SQL condition choosing the rows to copy (default: all of them). */
  where?: string;
  /** Values of its `$n` placeholders. */
  params?: (string | number | boolean | null)[];
}

export interface CopyBackResult {
  table: string;
  /** Rows read from the recovered instance. */
  read: number;
  /** Rows the live database did not have, now inserted. */
  inserted: number;
}

async function relationOf(client: Client, table: string, where: string): Promise<string> {
  // regclass quotes the name: the table name never becomes SQL text unchecked.
  const { rows } = await client.query<{ name: string | null }>('SELECT to_regclass($1)::text AS name', [
    table,
  ]);
  const name = rows[0]?.name;
  if (!name) throw new StepFailure(`copy back: table ${table} does not exist ${where}`);
  return name;
}

export async function copyBack(
  from: Client,
  into: Client,
  request: CopyBackRequest,
  intoName: string,
): Promise<CopyBackResult> {
  const source = await relationOf(from, request.table, 'in the recovered instance');
  const target = await relationOf(into, request.table, `on ${intoName}`);
  const where = request.where ? ` WHERE ${request.where}` : '';
  let read = 0;
  let inserted = 0;
  await from.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    await from.query({
      text: `DECLARE drillbook_copy_back NO SCROLL CURSOR FOR SELECT row_to_json(t)::text AS r FROM ${source} t${where}`,
      values: request.params ?? [],
    });
    await into.query('BEGIN');
    try {
      for (;;) {
        const batch = await from.query<{ r: string }>(`FETCH ${BATCH_ROWS} FROM drillbook_copy_back`);
        if (batch.rows.length === 0) break;
        read += batch.rows.length;
        const done = await into.query(
          `INSERT INTO ${target} SELECT * FROM json_populate_recordset(NULL::${target}, $1::json) ON CONFLICT DO NOTHING`,
          [`[${batch.rows.map((x) => x.r).join(',')}]`],
        );
        inserted += done.rowCount ?? 0;
      }
      await into.query('COMMIT');
    } catch (err) {
      await into.query('ROLLBACK').catch(() => undefined);
      throw new StepFailure(`copy back into ${target} on ${intoName} failed: ${errorMessage(err)}`);
    }
  } finally {
    await from.query('ROLLBACK').catch(() => undefined);
  }
  return { table: target, read, inserted };
}
