// What `lab status` reads from each PostgreSQL node: its role and the links it streams.
import pg from 'pg';
import { LAB_DATABASE, LAB_USER, type LabNode } from './config.js';

/** One link as its upstream sees it (pg_stat_replication there). */
export interface Stream {
  name: string;
  state: string;
  syncState: string;
  /** Bytes between the upstream's position and what this replica replayed. */
  lagBytes: number | null;
}

export interface NodeStatus {
  role: 'primary' | 'replica' | 'unknown';
  /** On a primary: the replicas it streams to; on a replica: its WAL receiver state. */
  replication: { name: string; state: string; syncState: string }[] | string;
  /** The replicas this node streams to (a replica too, in a cascade), with their lag. */
  streams: Stream[];
  /** On a replica: the address its WAL receiver streams from, when it does. */
  sender?: { host: string; port: number };
  error?: string;
}

/** Role and replication state over SQL, as the lab user (a partitioned node times out in 1 s). */
export async function nodeStatus(node: LabNode, password: string): Promise<NodeStatus> {
  const client = new pg.Client({
    host: node.host,
    port: node.port,
    user: LAB_USER,
    password,
    database: LAB_DATABASE,
    connectionTimeoutMillis: 1000,
  });
  try {
    await client.connect();
    const recovery = await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
    const { rows: streams } = await client.query<Stream>(
      `SELECT application_name AS name, state, sync_state AS "syncState",
              pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END,
                              replay_lsn)::float8 AS "lagBytes"
         FROM pg_stat_replication ORDER BY 1`,
    );
    if (recovery.rows[0]?.r) {
      const wal = await client.query<{ status: string; host: string | null; port: number | null }>(
        'SELECT status, sender_host AS host, sender_port AS port FROM pg_stat_wal_receiver',
      );
      const w = wal.rows[0];
      return {
        role: 'replica',
        replication: w?.status ?? 'not receiving',
        streams,
        ...(w?.host && w.port && { sender: { host: w.host, port: w.port } }),
      };
    }
    const replication = streams.map(({ name, state, syncState }) => ({ name, state, syncState }));
    return { role: 'primary', replication, streams };
  } catch (err) {
    return {
      role: 'unknown',
      replication: '',
      streams: [],
      error: err instanceof Error ? err.message : String(err),
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}
