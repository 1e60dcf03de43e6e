// Compares one table on the old and the new primary by key, a page at a time (keyset paging on the
// key), so a large table never sits whole in memory: only the differences are kept.
import type { Client } from 'pg';
import type { TableShape } from './table.js';

/** A row as the server renders it (row_to_json), and its last-write time when --updated-at is given. */
export interface RowVersion {
  row: Record<string, unknown>;
  /** The server's own text of the row: what is written back (JSON.parse would round big numbers). */
  json: string;
  /** UTC, microseconds: `2024-01-15T10:30:05.000000` (sorts as text). */
  updatedAt?: string | null;
}

export interface TableDiff {
  table: string;
  key: string;
  onlyOld: ({ key: string } & RowVersion)[];
  onlyNew: ({ key: string } & RowVersion)[];
  changed: { key: string; old: RowVersion; new: RowVersion }[];
}

interface PageRow {
  key: string;
  json: string;
  ts: string | null;
}

export const PAGE_ROWS = 1000;

/** The select list every read uses: the key as text, the row as JSON text, the timestamp as text. */
function selectList(t: TableShape): string {
  const ts = t.updatedAt ? `to_char(t.${t.updatedAt.quoted}, 'YYYY-MM-DD"T"HH24:MI:SS.US')` : 'NULL::text';
  return `t.${t.key.quoted}::text AS key, row_to_json(t)::text AS json, ${ts} AS ts`;
}

async function page(client: Client, t: TableShape, after: string | undefined): Promise<PageRow[]> {
  const { rows } = await client.query<PageRow>(
    `SELECT ${selectList(t)} FROM ${t.quoted} t
      WHERE $1::text IS NULL OR t.${t.key.quoted} > $1::text::${t.key.type}
      ORDER BY t.${t.key.quoted} LIMIT ${PAGE_ROWS}`,
    [after ?? null],
  );
  return rows;
}

async function lookup(client: Client, t: TableShape, keys: string[]): Promise<Map<string, PageRow>> {
  const { rows } = await client.query<PageRow>(
    `SELECT ${selectList(t)} FROM ${t.quoted} t WHERE t.${t.key.quoted} = ANY($1::text[]::${t.key.type}[])`,
    [keys],
  );
  return new Map(rows.map((r) => [r.key, r]));
}

const version = (r: PageRow, t: TableShape): RowVersion => ({
  row: JSON.parse(r.json) as Record<string, unknown>,
  json: r.json,
  ...(t.updatedAt && { updatedAt: r.ts }),
});

/** Every page of `from`, each with the rows of the same keys on `other`. */
async function* pairedPages(from: Client, other: Client, t: TableShape) {
  let after: string | undefined;
  for (;;) {
    const rows = await page(from, t, after);
    if (!rows.length) return;
    yield {
      rows,
      others: await lookup(
        other,
        t,
        rows.map((r) => r.key),
      ),
    };
    after = rows.at(-1)!.key;
  }
}

/** Rows only on the old primary, only on the new one, and changed on both (both versions). */
export async function compareTable(oldClient: Client, newClient: Client, t: TableShape): Promise<TableDiff> {
  const diff: TableDiff = { table: t.name, key: t.key.name, onlyOld: [], onlyNew: [], changed: [] };
  for await (const { rows, others } of pairedPages(oldClient, newClient, t)) {
    for (const r of rows) {
      const other = others.get(r.key);
      if (!other) diff.onlyOld.push({ key: r.key, ...version(r, t) });
      else if (other.json !== r.json)
        diff.changed.push({ key: r.key, old: version(r, t), new: version(other, t) });
    }
  }
  for await (const { rows, others } of pairedPages(newClient, oldClient, t)) {
    for (const r of rows) if (!others.has(r.key)) diff.onlyNew.push({ key: r.key, ...version(r, t) });
  }
  return diff;
}
