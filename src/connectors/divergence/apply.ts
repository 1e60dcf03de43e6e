// Last write wins, written into the new primary in one transaction: rows only on the old primary
// are copied, rows changed on both sides take the version with the later --updated-at (a tie keeps
// the new primary's). A row of the new primary that changed since the comparison aborts it all.
import type { Client } from 'pg';
import { UserError } from '../../errors.js';
import type { RowVersion, TableDiff } from './compare.js';
import type { TableShape } from './table.js';

export type Winner = 'old' | 'new';

/** Who wins a row changed on both sides: the later write; a missing timestamp is the oldest. */
export const lwwWinner = (old: RowVersion, next: RowVersion): Winner =>
  (old.updatedAt ?? '') > (next.updatedAt ?? '') ? 'old' : 'new';

/** What LWW writes into the new primary for one table: the old primary's version of these rows. */
export function lwwWrites(diff: TableDiff): { key: string; json: string; replaces?: string }[] {
  return [
    ...diff.onlyOld.map((r) => ({ key: r.key, json: r.json })),
    ...diff.changed
      .filter((c) => lwwWinner(c.old, c.new) === 'old')
      .map((c) => ({ key: c.key, json: c.old.json, replaces: c.new.json })),
  ];
}

/** Applies the winners of every table in one transaction on the new primary; returns rows written. */
export async function applyLww(
  client: Client,
  tables: { shape: TableShape; diff: TableDiff }[],
): Promise<number> {
  let written = 0;
  await client.query('BEGIN');
  try {
    for (const { shape: t, diff } of tables) {
      for (const w of lwwWrites(diff)) {
        if (w.replaces) {
          // Only the very version that was compared goes: a client may still be writing there.
          const del = await client.query(
            `DELETE FROM ${t.quoted} t WHERE t.${t.key.quoted} = $1::text::${t.key.type} AND row_to_json(t)::text = $2`,
            [w.key, w.replaces],
          );
          if (del.rowCount !== 1)
            throw new UserError(
              `row ${t.key.name}=${w.key} of "${t.name}" changed on the new primary since the comparison: nothing applied, run diverge again`,
            );
        }
        await client.query(
          `INSERT INTO ${t.quoted} OVERRIDING SYSTEM VALUE SELECT * FROM json_populate_record(NULL::${t.quoted}, $1::json)`,
          [w.json],
        );
        written++;
      }
    }
    await client.query('COMMIT');
    return written;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
