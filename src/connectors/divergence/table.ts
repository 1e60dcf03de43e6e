// What diverge needs to know about a table before it reads a row: that it exists on both sides
// with the same columns, that the key (and the last-write timestamp) columns are among them, and
// the safely quoted names to build queries from. Nothing is read or written before these checks.
import type { Client } from 'pg';
import { UserError } from '../../errors.js';

export interface TableShape {
  /** As the user named it (`orders`, `sales.orders`). */
  name: string;
  /** schema.table, each part quoted with escapeIdentifier. */
  quoted: string;
  key: { name: string; quoted: string; type: string };
  updatedAt?: { quoted: string };
  columns: string[];
}

interface Column {
  name: string;
  type: string;
}

async function columnsOf(
  client: Client,
  table: string,
): Promise<{ schema: string; rel: string; columns: Column[] } | undefined> {
  const { rows } = await client.query<{ nspname: string; relname: string; attname: string; type: string }>(
    `SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE c.oid = to_regclass($1) AND c.relkind IN ('r', 'p')
      ORDER BY a.attnum`,
    [table],
  );
  const first = rows[0];
  if (!first) return undefined;
  return {
    schema: first.nspname,
    rel: first.relname,
    columns: rows.map((r) => ({ name: r.attname, type: r.type })),
  };
}

/**
 * The shape of `table` on both nodes; a UserError (bad input: exit 2) when it is missing on one,
 * the columns differ, or the key / updated-at column is not there.
 */
export async function tableShape(
  sides: { old: { name: string; client: Client }; new: { name: string; client: Client } },
  table: string,
  key: string,
  updatedAt?: string,
): Promise<TableShape> {
  const [old, next] = await Promise.all([
    columnsOf(sides.old.client, table),
    columnsOf(sides.new.client, table),
  ]);
  if (!old) throw new UserError(`table "${table}" does not exist on ${sides.old.name}`);
  if (!next) throw new UserError(`table "${table}" does not exist on ${sides.new.name}`);
  const list = (cs: Column[]) => cs.map((c) => `${c.name} ${c.type}`).join(', ');
  if (list(old.columns) !== list(next.columns))
    throw new UserError(
      `table "${table}" has different columns on ${sides.old.name} (${list(old.columns)}) and ${sides.new.name} (${list(next.columns)})`,
    );
  const column = (name: string, what: string) => {
    const found = old.columns.find((c) => c.name === name);
    if (!found) throw new UserError(`table "${table}" has no ${what} column "${name}"`);
    return found;
  };
  const keyColumn = column(key, 'key');
  const stamp = updatedAt === undefined ? undefined : column(updatedAt, '--updated-at');
  if (stamp && !/^timestamp/.test(stamp.type))
    throw new UserError(`--updated-at column "${updatedAt}" of "${table}" is ${stamp.type}, not a timestamp`);
  const escapeIdentifier = (name: string) => sides.old.client.escapeIdentifier(name);
  return {
    name: table,
    quoted: `${escapeIdentifier(old.schema)}.${escapeIdentifier(old.rel)}`,
    // The type comes from the server's own format_type (which quotes what needs quoting): it is
    // used to cast the text form of keys back for keyset paging and lookups.
    key: { name: keyColumn.name, quoted: escapeIdentifier(keyColumn.name), type: keyColumn.type },
    updatedAt: stamp && { quoted: escapeIdentifier(stamp.name) },
    columns: old.columns.map((c) => c.name),
  };
}
