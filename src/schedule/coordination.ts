// Claims in a coordination PostgreSQL database, for daemons on several machines: one row per
// occurrence, keyed by (drill, occurrence), so `INSERT ... ON CONFLICT DO NOTHING RETURNING` lets
// exactly one daemon claim it. The daemon that runs it refreshes `heartbeat_at`; a row still
// `running` whose heartbeat is older than the stale limit belongs to a daemon that died mid-drill.
// Times are the database's (now()), so the machines' clocks need not agree.
import type { Client, QueryResultRow } from 'pg';
import { connectPostgres } from '../connectors/postgres.js';
import { resolveSecretRef } from '../connectors/secrets.js';
import { advisoryLockId } from '../engine/lock.js';
import type { Environment } from '../schema/inventory.js';
import type { Claims, Orphan } from './claims.js';

export type Coordination = NonNullable<Environment['coordination']>;

export const OCCURRENCE_TABLE = 'drillbook_schedule_occurrences';

const CREATE = `
create table if not exists ${OCCURRENCE_TABLE} (
  drill        text        not null,
  occurrence   timestamptz not null,
  environment  text        not null,
  daemon       text        not null,
  claimed_at   timestamptz not null default now(),
  heartbeat_at timestamptz not null default now(),
  status       text        not null default 'running',
  finished_at  timestamptz,
  run_id       text,
  detail       text,
  primary key (drill, occurrence)
)`;

export interface PgClaimsOptions {
  daemon: string;
  /** A `running` row whose heartbeat is older than this is an orphan. */
  staleMs: number;
}

/** The same database, whatever the drill: daemons share one Claims per coordination endpoint. */
export const coordinationKey = (c: Coordination) => `${c.user}@${c.host}:${c.port}/${c.database}`;

/**
 * A daemon's (or serve's) one session to the coordination database, opened on first use and again after it
 * broke (the next call reconnects), and the tables it needs, each created once.
 */
export function coordinationSession(coordination: Coordination, daemon: string) {
  let session: Promise<Client> | undefined;
  const ready = new Map<string, Promise<void>>();

  async function query<R extends QueryResultRow>(sql: string, params: unknown[] = []) {
    session ??= connectPostgres(coordination, {
      secret: resolveSecretRef,
      applicationName: `drillbook daemon ${daemon}`.slice(0, 63),
    });
    const current = session;
    try {
      return await (await current).query<R>(sql, params);
    } catch (err) {
      if (session === current) session = undefined;
      void current.then((c) => c.end()).catch(() => undefined);
      throw err;
    }
  }

  // Several daemons starting together: the advisory lock lets one create the table at a time
  // (concurrent CREATE TABLE IF NOT EXISTS can still fail on the catalog's unique index).
  const ensureTable = (table: string, create: string) => {
    let once = ready.get(table);
    if (!once) {
      once = (async () => {
        await query('begin');
        try {
          await query('select pg_advisory_xact_lock($1::bigint)', [advisoryLockId(table).toString()]);
          await query(create);
          await query('commit');
        } catch (err) {
          await query('rollback').catch(() => undefined);
          ready.delete(table);
          throw err;
        }
      })();
      ready.set(table, once);
    }
    return once;
  };

  async function close() {
    const current = session;
    session = undefined;
    await current?.then((c) => c.end()).catch(() => undefined);
  }

  return { query, ensureTable, close };
}

export function pgClaims(coordination: Coordination, options: PgClaimsOptions): Claims {
  const { daemon } = options;
  const { query, ensureTable, close } = coordinationSession(coordination, daemon);
  return {
    async claim(o, environment) {
      await ensureTable(OCCURRENCE_TABLE, CREATE);
      const key = [o.drill, o.at.toISOString()];
      const { rows } = await query(
        `insert into ${OCCURRENCE_TABLE} (drill, occurrence, environment, daemon) values ($1, $2, $3, $4)
         on conflict do nothing returning daemon`,
        [...key, environment, daemon],
      );
      if (!rows.length) {
        const holder = await query<{ daemon: string }>(
          `select daemon from ${OCCURRENCE_TABLE} where drill = $1 and occurrence = $2`,
          key,
        );
        return { claimedBy: holder.rows[0]?.daemon ?? 'another daemon' };
      }
      const mine = `drill = $1 and occurrence = $2 and daemon = $3`;
      return {
        claim: {
          async heartbeat() {
            await query(`update ${OCCURRENCE_TABLE} set heartbeat_at = now() where ${mine}`, [
              ...key,
              daemon,
            ]);
          },
          async finish(outcome) {
            // Unconditional: a daemon whose heartbeats did not get through (and was reported as
            // dead) still records how its drill ended.
            await query(
              `update ${OCCURRENCE_TABLE} set status = $4, run_id = $5, detail = $6, finished_at = now()
                where ${mine}`,
              [...key, daemon, outcome.verdict, outcome.runId ?? null, outcome.detail ?? null],
            );
          },
        },
      };
    },

    async orphans() {
      await ensureTable(OCCURRENCE_TABLE, CREATE);
      // Row locks make concurrent reporters wait; the loser re-checks `status` and gets nothing.
      const { rows } = await query<{
        drill: string;
        occurrence: Date;
        environment: string;
        daemon: string;
        heartbeat_at: Date;
      }>(
        `update ${OCCURRENCE_TABLE}
            set status = 'orphaned', detail = 'no heartbeat since ' || heartbeat_at || '; reported by ' || $2
          where status = 'running' and heartbeat_at < now() - $1 * interval '1 millisecond'
          returning drill, occurrence, environment, daemon, heartbeat_at`,
        [options.staleMs, daemon],
      );
      return rows.map((r): Orphan => ({
        drill: r.drill,
        occurrence: r.occurrence,
        environment: r.environment,
        daemon: r.daemon,
        lastHeartbeat: r.heartbeat_at,
      }));
    },

    close,
  };
}
