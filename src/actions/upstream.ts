// Where a replica streams from: its WAL receiver's sender while it streams, else the host and port
// of its primary_conninfo (a receiver whose upstream is gone has no sender), as a node name.
import type { Client } from 'pg';
import type { Environment } from '../schema/inventory.js';

/** The node at host:port in the environment, if any. */
const nodeAt = (env: Environment, host: string, port: number) =>
  Object.entries(env.postgres.nodes).find(([, n]) => n.host === host && n.port === port)?.[0];

/** A conninfo keyword's value (plain or single-quoted). */
function conninfoField(conninfo: string, key: string): string | undefined {
  const m = new RegExp(`(?:^|\\s)${key}\\s*=\\s*(?:'((?:[^'\\\\]|\\\\.)*)'|(\\S+))`).exec(conninfo);
  return m ? (m[1]?.replace(/\\(.)/g, '$1') ?? m[2]) : undefined;
}

export interface UpstreamView {
  /** The node it streams (or tries to stream) from; undefined when that is no node of the environment. */
  upstream?: string;
  /** Its WAL receiver streams right now. */
  streaming: boolean;
}

/** Read on the replica itself (a superuser or pg_read_all_settings member sees primary_conninfo). */
export async function readUpstream(client: Client, env: Environment): Promise<UpstreamView> {
  const { rows } = await client.query<{
    status: string | null;
    host: string | null;
    port: number | null;
    conninfo: string;
  }>(
    `SELECT r.status, r.sender_host AS host, r.sender_port AS port, current_setting('primary_conninfo') AS conninfo
       FROM (SELECT 1) one LEFT JOIN pg_stat_wal_receiver r ON true`,
  );
  const row = rows[0]!;
  if (row.status === 'streaming' && row.host && row.port) {
    return { upstream: nodeAt(env, row.host, row.port), streaming: true };
  }
  const host = conninfoField(row.conninfo, 'host');
  const port = Number(conninfoField(row.conninfo, 'port') ?? 5432);
  return { upstream: host ? nodeAt(env, host, port) : undefined, streaming: false };
}
