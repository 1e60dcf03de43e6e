// Each alert (fingerprint + startsAt + status) starts at most one run, whichever serve process
// receives it: a row in the environment's coordination database (INSERT ... ON CONFLICT DO NOTHING),
// or without one an exclusively created file in the state directory (serve processes of one machine).
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createExclusive } from '../engine/lock.js';
import { coordinationKey, coordinationSession, type Coordination } from '../schedule/coordination.js';

export const ALERT_TABLE = 'drillbook_alert_claims';
const REMEMBERED = 10_000;

const CREATE = `
create table if not exists ${ALERT_TABLE} (
  alert_key   text        primary key,
  environment text        not null,
  server      text        not null,
  claimed_at  timestamptz not null default now()
)`;

/** true: this process claimed the alert; else the server that had it first. */
export type AlertClaim = { claimed: true } | { claimed: false; by: string };

export interface AlertClaims {
  claim(key: string, environment: string): Promise<AlertClaim>;
  close(): Promise<void>;
}

/** Claims as files: <state>/serve/alerts/<sha256 of the key>.json, created exclusively. */
export function fileAlertClaims(stateDir: string, server: string): AlertClaims {
  const dir = resolve(stateDir, 'serve', 'alerts');
  return {
    async claim(key, environment) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const path = join(dir, `${createHash('sha256').update(key).digest('hex')}.json`);
      if (createExclusive(path, { key, environment, server, claimedAt: new Date().toISOString() }))
        return { claimed: true };
      try {
        return { claimed: false, by: (JSON.parse(readFileSync(path, 'utf8')) as { server: string }).server };
      } catch {
        return { claimed: false, by: 'another serve process' };
      }
    },
    close: async () => undefined,
  };
}

export function pgAlertClaims(coordination: Coordination, server: string): AlertClaims {
  const { query, ensureTable, close } = coordinationSession(coordination, server);
  return {
    async claim(key, environment) {
      await ensureTable(ALERT_TABLE, CREATE);
      const { rows } = await query(
        `insert into ${ALERT_TABLE} (alert_key, environment, server) values ($1, $2, $3)
         on conflict do nothing returning server`,
        [key, environment, server],
      );
      if (rows.length) return { claimed: true };
      const held = await query<{ server: string }>(`select server from ${ALERT_TABLE} where alert_key = $1`, [
        key,
      ]);
      return { claimed: false, by: held.rows[0]?.server ?? 'another serve process' };
    },
    close,
  };
}

/** One AlertClaims per coordination database, and the state directory's for environments without. */
export function alertClaimsFor(stateDir: string, server: string) {
  const byKey = new Map<string, AlertClaims>();
  return {
    of(coordination: Coordination | undefined): AlertClaims {
      const key = coordination ? coordinationKey(coordination) : 'local';
      let c = byKey.get(key);
      if (!c) {
        c = remembered(
          coordination ? pgAlertClaims(coordination, server) : fileAlertClaims(stateDir, server),
          server,
        );
        byKey.set(key, c);
      }
      return c;
    },
    async close() {
      for (const c of byKey.values()) await c.close();
    },
  };
}

/**
 * A claim, once made by anyone, never goes back: the answer for a key is kept, so Alertmanager's
 * repeats of an alert (hundreds a minute in a storm) cost a lookup instead of a file or a query.
 */
function remembered(claims: AlertClaims, server: string): AlertClaims {
  const known = new Map<string, string>();
  return {
    async claim(key, environment) {
      const by = known.get(key);
      if (by !== undefined) return { claimed: false, by };
      const claim = await claims.claim(key, environment);
      known.set(key, claim.claimed ? server : claim.by);
      // Bounded: the oldest alerts go first (the claim itself still answers for them).
      if (known.size > REMEMBERED) known.delete(known.keys().next().value!);
      return claim;
    },
    close: () => claims.close(),
  };
}
