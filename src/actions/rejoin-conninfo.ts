// How a rejoined node connects to its new primary for streaming: primary_conninfo, the replication
// slot, and the passfile that keeps the replication password out of both.
import type { Client } from 'pg';
import { runOnNode, type NodeHost } from '../connectors/node-host.js';
import { shq } from '../connectors/shell-quote.js';
import type { ActionContext } from './types.js';

/** Slot names allow lowercase letters, digits and underscores only. */
export const slotName = (node: string) => node.toLowerCase().replace(/[^a-z0-9_]/g, '_');

/**
 * The replication password lives in a passfile next to the data directory (mode 0600, owned by the
 * server's OS user), never in primary_conninfo: ALTER SYSTEM would send it as query text (server
 * logs) and postgresql.auto.conf would keep it in every copy of the data directory.
 */
export const passfileOf = (host: NodeHost) => `${host.dataDir}.drillbook-pgpass`;

/** A ~/.pgpass line for any host, port and database (`:` and `\` escaped in user and password). */
const pgpassLine = (user: string, password: string) =>
  ['*:*:*', user, password].map((f, i) => (i ? f.replace(/[\\:]/g, '\\$&') : f)).join(':');

/** Shell: replaces the passfile with the line in $PASSLINE, mode 0600 (when there is a password). */
export const WRITE_PASSFILE = [
  'if [ -n "$PASSLINE" ]; then',
  '(umask 077; printf \'%s\\n\' "$PASSLINE" > "$P.new") && mv "$P.new" "$P"',
  'fi',
].join('\n');

/** How `node` connects to `primary` for streaming (application_name = the node's name). */
export async function primaryConninfo(ctx: ActionContext, host: NodeHost, primary: string) {
  const pg = ctx.env.postgres;
  const p = pg.nodes[primary]!;
  const password = pg.password ? await ctx.secret(pg.password) : '';
  const replicationPassword = pg.replicationPassword ? await ctx.secret(pg.replicationPassword) : password;
  const user = pg.replicationUser ?? pg.user;
  const conninfo = [
    ['host', p.host],
    ['port', String(p.port)],
    ['user', user],
    ['passfile', replicationPassword ? passfileOf(host) : ''],
    ['application_name', host.name],
  ]
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}=${conninfoValue(v!)}`)
    .join(' ');
  return { conninfo, passfileLine: replicationPassword ? pgpassLine(user, replicationPassword) : '' };
}

/** Writes the node's passfile on its host (the line travels on stdin). */
export async function writePassfile(ctx: ActionContext, host: NodeHost, passfileLine: string): Promise<void> {
  if (!passfileLine) return;
  await runOnNode(
    ctx,
    host,
    'writing the replication passfile',
    `IFS= read -r PASSLINE\nP=${shq(passfileOf(host))}\n${WRITE_PASSFILE}`,
    {
      stdin: `${passfileLine}\n`,
    },
  );
}

/** A libpq conninfo value, quoted (`\` and `'` escaped). */
export const conninfoValue = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
/** A postgresql.conf value, quoted (`'` doubled). */
export const confValue = (v: string) => `'${v.replace(/'/g, "''")}'`;

/**
 * Whether the node's passfile already holds the line, read through a connection the caller has
 * open to that node (false when it cannot be read: not a superuser, or no such file). A failover
 * re-points a running replica on the clients' critical path, where an SSH round trip to rewrite
 * the same line costs 0.1-0.25 s; the line is compared here and never leaves this function.
 */
export async function passfileHolds(c: Client, host: NodeHost, passfileLine: string): Promise<boolean> {
  if (!passfileLine) return true;
  const { rows } = await c
    .query<{ content: string | null }>('SELECT pg_read_file($1::text, 0, 65536, true) AS content', [
      passfileOf(host),
    ])
    .catch(() => ({ rows: [] as { content: string | null }[] }));
  return rows[0]?.content === `${passfileLine}\n`;
}
