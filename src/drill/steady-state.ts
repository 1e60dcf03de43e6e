// Before a fault is injected, the environment must be healthy: its primary up and primary, every
// replica streaming from it with little lag. An unhealthy environment is refused, not drilled.
import type { EnvContext } from '../actions/types.js';
import { withNode } from '../connectors/postgres.js';
import { errorMessage } from '../errors.js';
import { steadyUpstream } from '../schema/inventory.js';
import { setTimeout as sleep } from 'node:timers/promises';

export const DEFAULT_MAX_STEADY_LAG_BYTES = 1024 * 1024;

export interface SteadyState {
  healthy: boolean;
  problems: string[];
  /** Replay lag per replica, in bytes. */
  lagBytes: Record<string, number>;
  /** How many of the problems a healthy replica clears by itself in a moment (lag, catching up). */
  settling: number;
}

/** The run event of a check: what it found (how much of it would settle is the check's own business). */
export const steadyStateEvent = ({ healthy, problems, lagBytes }: SteadyState) => ({
  type: 'steady-state' as const,
  healthy,
  problems,
  lagBytes,
});

/** A replica that just (re)connected catches up before it streams: a state that passes. */
const CATCHING_UP = new Set(['startup', 'catchup']);

export async function checkSteadyState(
  env: EnvContext,
  secret: (ref: string) => Promise<string>,
  maxLagBytes = DEFAULT_MAX_STEADY_LAG_BYTES,
): Promise<SteadyState> {
  const problems: string[] = [];
  const lagBytes: Record<string, number> = {};
  let settling = 0;
  // Each replica is looked for on its own upstream (a cascade's replicas stream from a replica).
  const byUpstream = new Map<string, string[]>();
  for (const r of env.replicas) {
    const up = steadyUpstream(env, r);
    byUpstream.set(up, [...(byUpstream.get(up) ?? []), r]);
  }
  try {
    await withNode(env, env.primary, { secret, connectTimeoutMs: 3000 }, async (client) => {
      const role = await client.query<{ recovery: boolean }>('SELECT pg_is_in_recovery() AS recovery');
      if (role.rows[0]?.recovery) problems.push(`${env.primary} should be the primary but is in recovery`);
    });
  } catch (err) {
    problems.push(`primary ${env.primary} is not reachable: ${errorMessage(err)}`);
    return { healthy: false, problems, lagBytes, settling };
  }
  for (const [upstream, replicas] of byUpstream) {
    try {
      await withNode(env, upstream, { secret, connectTimeoutMs: 3000 }, async (client) => {
        // On a replica upstream the position is what it replayed (pg_current_wal_lsn() fails there).
        const { rows } = await client.query<ReplicationRow>(
          `SELECT application_name AS name, state,
                  pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END,
                                  replay_lsn)::text AS lag
             FROM pg_stat_replication`,
        );
        const found = replicaProblems(rows, replicas, upstream, maxLagBytes);
        problems.push(...found.problems);
        Object.assign(lagBytes, found.lagBytes);
        settling += found.settling;
      });
    } catch (err) {
      problems.push(
        `${upstream}, upstream of ${replicas.join(', ')}, is not reachable: ${errorMessage(err)}`,
      );
    }
  }
  return { healthy: problems.length === 0, problems, lagBytes, settling };
}

export interface ReplicationRow {
  name: string;
  state: string;
  /** Bytes between the primary's position and the replica's replay position. */
  lag: string | null;
}

/** What `pg_stat_replication` on the primary says is wrong with its replicas, and what will pass. */
export function replicaProblems(
  rows: readonly ReplicationRow[],
  replicas: readonly string[],
  primary: string,
  maxLagBytes = DEFAULT_MAX_STEADY_LAG_BYTES,
): Pick<SteadyState, 'problems' | 'lagBytes' | 'settling'> {
  const problems: string[] = [];
  const lagBytes: Record<string, number> = {};
  let settling = 0;
  for (const replica of replicas) {
    const r = rows.find((row) => row.name === replica);
    if (!r) problems.push(`replica ${replica} is not connected to ${primary}`);
    else if (r.state !== 'streaming') {
      problems.push(`replica ${replica} is ${r.state}, not streaming`);
      if (CATCHING_UP.has(r.state)) settling++;
    } else {
      lagBytes[replica] = Number(r.lag ?? 0);
      if (lagBytes[replica] > maxLagBytes) {
        problems.push(`replica ${replica} lags ${lagBytes[replica]} bytes (more than ${maxLagBytes})`);
        settling++;
      }
    }
  }
  return { problems, lagBytes, settling };
}

/** How long a lagging replica may take to catch up before the environment counts as unhealthy. */
export const STEADY_SETTLE_MS = 5000;

/**
 * The steady state, given a few seconds to settle: a WAL segment switch (archive_timeout, a
 * backup, a PITR's pg_switch_wal) moves the primary's position to the next segment at once, and a
 * healthy replica shows that much "lag" until it replays the switch a moment later; a replica the
 * restore just re-pointed is in `catchup` until it reaches the primary. Only these are waited for;
 * a node down, not connected or stopped is reported at once.
 */
export async function settledSteadyState(
  env: EnvContext,
  secret: (ref: string) => Promise<string>,
  settleMs = STEADY_SETTLE_MS,
): Promise<SteadyState> {
  const deadline = performance.now() + settleMs;
  for (;;) {
    const state = await checkSteadyState(env, secret);
    const passing = state.problems.length === state.settling;
    if (state.healthy || !passing || performance.now() >= deadline) return state;
    await sleep(250);
  }
}
