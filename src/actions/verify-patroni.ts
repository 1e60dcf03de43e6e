// verify check: patroni — the cluster as Patroni sees it: every member there and running, exactly
// one running leader, replicas within a lag limit, no member waiting for a restart.
import { Type } from '@sinclair/typebox';
import { StepFailure } from '../errors.js';
import { patroniCluster, patroniConfig, type PatroniMember } from '../connectors/patroni.js';
import { Strict } from '../schema/common.js';
import { patroniApi } from './patroni-api.js';
import type { ActionContext } from './types.js';

/** Patroni's own default for maximum_lag_on_failover: a replica further behind is not a candidate. */
export const DEFAULT_MAX_LAG_BYTES = 1_048_576;

export const PatroniCheck = Strict({
  check: Type.Literal('patroni', {
    description: 'the Patroni cluster: members, one running leader, lag, no pending restart',
  }),
  members: Type.Optional(
    Type.Integer({ minimum: 1, description: 'members expected (default: every node with a REST URL)' }),
  ),
  maxLag: Type.Optional(
    Type.Integer({ minimum: 0, description: 'largest replica lag in bytes (default 1048576)' }),
  ),
  syncStandby: Type.Optional(
    Type.String({
      description:
        'a member that must be a synchronous standby (under synchronous_mode Patroni switches over only to one)',
    }),
  ),
});

export const PatroniCheckOutputs = Strict({
  leader: Type.String({ description: 'patroni: the running leader' }),
  synchronous: Type.Optional(Type.Boolean({ description: "patroni: Patroni's synchronous_mode is on" })),
  timeline: Type.Optional(Type.Integer()),
  members: Type.Array(
    Strict({
      name: Type.String(),
      role: Type.String(),
      state: Type.String(),
      lag: Type.Optional(Type.Union([Type.Integer(), Type.String()])),
    }),
  ),
});

export async function checkPatroni(ctx: ActionContext, input: (typeof PatroniCheck)['static']) {
  const api = await patroniApi(ctx);
  const cluster = await patroniCluster(api);
  const synchronous = (await patroniConfig(api)).synchronous_mode === true;
  const expected = input.members ?? Object.keys(api.urls).length;
  const maxLag = input.maxLag ?? DEFAULT_MAX_LAG_BYTES;
  const leaders = cluster.members.filter((m) => m.role === 'leader' || m.role === 'standby_leader');
  const problems = [
    ...(cluster.members.length < expected ? [`${cluster.members.length} of ${expected} members`] : []),
    ...(leaders.length !== 1 ? [`${leaders.length} leaders`] : []),
    ...cluster.members.filter((m) => m.state !== 'running').map((m) => `${m.name} is ${m.state}`),
    ...cluster.members
      .filter((m) => !leaders.includes(m) && !lagWithin(m, maxLag))
      .map(
        (m) =>
          `${m.name} lags ${m.lag ?? 'unknown'}${typeof m.lag === 'number' ? ' bytes' : ''} (limit ${maxLag})`,
      ),
    ...cluster.members.filter((m) => m.pending_restart).map((m) => `${m.name} has a pending restart`),
    ...(cluster.pause ? ['the cluster is paused'] : []),
    // Under synchronous_mode only a synchronous standby may take over: without one (Patroni picks
    // it again a loop or more after a switchover) neither a failover nor a switchover can happen.
    ...(synchronous && !cluster.members.some((m) => m.role === 'sync_standby')
      ? ['synchronous_mode is on but no member is a synchronous standby']
      : []),
    ...(input.syncStandby &&
    !cluster.members.some((m) => m.name === input.syncStandby && m.role === 'sync_standby')
      ? [`${input.syncStandby} is not a synchronous standby`]
      : []),
  ];
  const summary = cluster.members.map((m) => `${m.name} ${m.role} ${m.state}`).join(', ');
  ctx.log(`patroni: ${summary}`);
  if (problems.length > 0) {
    // Retryable: a replica catching up or a member restarting settles by itself.
    throw new StepFailure(`patroni: ${problems.join('; ')} (${summary})`, { retryable: true });
  }
  const leader = leaders[0]!;
  return {
    leader: leader.name,
    ...(leader.timeline !== undefined && { timeline: leader.timeline }),
    synchronous,
    members: cluster.members.map((m) => ({
      name: m.name,
      role: m.role,
      state: m.state,
      ...(m.lag !== undefined && { lag: m.lag }),
    })),
  };
}

const lagWithin = (m: PatroniMember, maxLag: number) => typeof m.lag === 'number' && m.lag <= maxLag;
