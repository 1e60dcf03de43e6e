// The probe: one client profile writing a numbered row every interval through its route, recording
// when each write was acknowledged, and by which server. Like an application it keeps one
// connection, gives up on a connection attempt after its connect timeout and on a write after its
// write timeout, and after any error drops the connection and reconnects after its reconnect
// delay. Its gaps give the client-observed RTO; rows it saw acknowledged but the new primary lacks
// give the RPO.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from 'pg';
import { errorMessage } from '../errors.js';
import type { ClientProfile } from './client-profiles.js';
import type { Connect } from './probe-route.js';

export const PROBE_TABLE = 'drillbook_probe';

/** The probe rows of one profile of one drill are keyed by this `run_id`. */
export const probeRowKey = (runId: string, profile: string) => `${runId}/${profile}`;

export interface ProbeWrite {
  seq: number;
  /** Monotonic ms (performance.now()) when the write was sent. */
  sentAt: number;
  /** When the server acknowledged the commit; absent when the write failed. */
  ackAt?: number;
  /** When the client saw the write fail (an error or its timeout). */
  failedAt?: number;
  error?: string;
  /** The server that acknowledged it (address:port) and its WAL position right after the insert. */
  server?: string;
  lsn?: string;
}

export interface ProbeOptions {
  connect: Connect;
  runId: string;
  profile: ClientProfile;
  intervalMs: number;
  onWrite?(write: ProbeWrite): void;
  /** Called every interval while writing, so a write that hangs is noticed before it times out. */
  onTick?(): void;
}

/** Rejects when `fn` has not settled within `ms`: a frozen server never answers. */
export async function withTimeout<T>(ms: number, what: string, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([fn(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export class Probe {
  readonly writes: ProbeWrite[] = [];
  private client?: Client;
  private stopped = false;
  private loop?: Promise<void>;
  private ticker?: NodeJS.Timeout;
  /** When the write in flight was sent, if one is. */
  private inFlightSince?: number;

  constructor(private readonly o: ProbeOptions) {}

  get profile(): ClientProfile {
    return this.o.profile;
  }

  /** Creates the probe table through the route (it must work before the fault) and starts writing. */
  async start(): Promise<void> {
    this.client = await this.o.connect(Math.max(this.o.profile.connectTimeoutMs, 2500));
    await this.client.query(
      `CREATE TABLE IF NOT EXISTS ${PROBE_TABLE} (run_id text NOT NULL, seq integer NOT NULL, sent_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (run_id, seq))`,
    );
    this.loop = this.run();
    if (this.o.onTick) this.ticker = setInterval(() => this.o.onTick?.(), this.o.intervalMs);
  }

  /** Stops writing and closes the connection (also after a start that failed). */
  async stop(): Promise<ProbeWrite[]> {
    this.stopped = true;
    clearInterval(this.ticker);
    await this.loop;
    this.drop();
    return this.writes;
  }

  /**
   * Acknowledged writes so far, and the current outage: the time since the last ack when the last
   * write failed or the one in flight has taken longer than an interval (a client hanging in a
   * write or a connect is down too).
   */
  stats(now = performance.now()) {
    const acked = this.writes.filter((w) => w.ackAt !== undefined);
    const last = this.writes.at(-1);
    const lastAck = acked.at(-1)?.ackAt;
    const hanging = this.inFlightSince !== undefined && now - this.inFlightSince > this.o.intervalMs;
    const failing = hanging || (last !== undefined && last.ackAt === undefined);
    return {
      sent: this.writes.length,
      acked: acked.length,
      outageMs: failing && lastAck ? now - lastAck : 0,
    };
  }

  private async run(): Promise<void> {
    for (let seq = 1; !this.stopped; seq++) {
      const sentAt = performance.now();
      const write: ProbeWrite = { seq, sentAt };
      this.inFlightSince = sentAt;
      try {
        const row = await this.insert(seq);
        write.ackAt = performance.now();
        write.server = `${row.addr}:${row.port}`;
        write.lsn = row.lsn;
      } catch (err) {
        write.failedAt = performance.now();
        write.error = errorMessage(err);
        this.drop();
      }
      this.inFlightSince = undefined;
      this.writes.push(write);
      this.o.onWrite?.(write);
      const wait =
        write.ackAt === undefined
          ? this.o.profile.reconnectDelayMs
          : this.o.intervalMs - (performance.now() - sentAt);
      if (wait > 0 && !this.stopped) await sleep(wait);
    }
  }

  private async insert(seq: number) {
    const { connectTimeoutMs, writeTimeoutMs, name } = this.o.profile;
    this.client ??= await this.o.connect(connectTimeoutMs);
    const client = this.client;
    const { rows } = await withTimeout(writeTimeoutMs, 'write', () =>
      client.query<{ lsn: string; addr: string; port: number }>(
        `INSERT INTO ${PROBE_TABLE} (run_id, seq) VALUES ($1, $2) RETURNING pg_current_wal_lsn()::text AS lsn, host(inet_server_addr()) AS addr, inet_server_port() AS port`,
        [probeRowKey(this.o.runId, name), seq],
      ),
    );
    return rows[0]!;
  }

  /** Drops the connection without waiting for a goodbye the server may never send. */
  private drop(): void {
    const client = this.client as (Client & { connection?: { stream?: { destroy(): void } } }) | undefined;
    this.client = undefined;
    client?.connection?.stream?.destroy();
    void client?.end().catch(() => undefined);
  }
}
