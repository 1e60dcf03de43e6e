// Before a fault is injected, the environment must be healthy: its primary up and primary, every
// replica streaming from it with little lag. An unhealthy environment is refused, not drilled.
import type { EnvContext } from '../actions/types.js';
import { withNode } from '../connectors/postgres.js';
import { errorMessage } from '../errors.js';
import { setTimeout as sleep } from 'node:timers/promises';

export const DEFAULT_MAX_STEADY_LAG_BYTES = 1024 * 1024;

export interface SteadyState {
  healthy: boolean;
  problems: string[];
  /** Replay lag per replica, in bytes. */
  lagBytes: Record<string, number>;
}

export async function checkSteadyState(
  env: EnvContext,
  secret: (ref: string) => Promise<string>,
  maxLagBytes = DEFAULT_MAX_STEADY_LAG_BYTES,
): Promise<SteadyState> {
  const problems: string[] = [];
  const lagBytes: Record<string, number> = {};
  try {
    await withNode(env, env.primary, { secret, connectTimeoutMs: 3000 }, async (client) => {
      const role = await client.query<{ recovery: boolean }>('SELECT pg_is_in_recovery() AS recovery');
      if (role.rows[0]?.recovery) problems.push(`${env.primary} should be the primary but is in recovery`);
      const { rows } = await client.query<{ name: string; state: string; lag: string | null }>(
        `SELECT application_name AS name, state, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::text AS lag
           FROM pg_stat_replication`,
      );
      for (const replica of env.replicas) {
        const r = rows.find((row) => row.name === replica);
        if (!r) problems.push(`replica ${replica} is not connected to ${env.primary}`);
        else if (r.state !== 'streaming') problems.push(`replica ${replica} is ${r.state}, not streaming`);
        else {
          lagBytes[replica] = Number(r.lag ?? 0);
          if (lagBytes[replica] > maxLagBytes) {
            problems.push(`replica ${replica} lags ${lagBytes[replica]} bytes (more than ${maxLagBytes})`);
          }
        }
      }
    });
  } catch (err) {
    problems.push(`primary ${env.primary} is not reachable: ${errorMessage(err)}`);
  }
  return { healthy: problems.length === 0, problems, lagBytes };
}

/** How long a lagging replica may take to catch up before the environment counts as unhealthy. */
export const STEADY_SETTLE_MS = 5000;

/**
 * The steady state, given a few seconds to settle: a WAL segment switch (archive_timeout, a
 * backup, a PITR's pg_switch_wal) moves the primary's position to the next segment at once, and a
 * healthy replica shows that much "lag" until it replays the switch a moment later. Only lag is
 * waited for; a node down or not streaming is reported at once.
 */
export async function settledSteadyState(
  env: EnvContext,
  secret: (ref: string) => Promise<string>,
  settleMs = STEADY_SETTLE_MS,
): Promise<SteadyState> {
  const deadline = performance.now() + settleMs;
  for (;;) {
    const state = await checkSteadyState(env, secret);
    const lagging = Object.values(state.lagBytes).filter((lag) => lag > DEFAULT_MAX_STEADY_LAG_BYTES);
    const lagOnly = state.problems.length === lagging.length;
    if (state.healthy || !lagOnly || performance.now() >= deadline) return state;
    await sleep(250);
  }
}
