// patroni: drive and observe a Patroni cluster through its REST API. drillbook does not fail a
// Patroni cluster over itself: it asks Patroni (switchover, failover) or watches it (wait-leader).
import { Type } from '@sinclair/typebox';
import { parseDuration } from '../duration.js';
import { StepFailure } from '../errors.js';
import { patroniCall, patroniCluster, runningLeader, type PatroniApi } from '../connectors/patroni.js';
import { pollUntil } from '../connectors/poll.js';
import { Duration, Strict, Target, Text } from '../schema/common.js';
import { resolveNode } from '../schema/inventory.js';
import { Ms } from './contract.js';
import { leaderName, memberName, patroniApi } from './patroni-api.js';
import { defineAction, type ActionContext } from './types.js';

/** The issue's bound: a new leader is seen within 100 ms of Patroni publishing it. */
const POLL_INTERVAL_MS = 100;
const DEFAULT_LEADER_TIMEOUT_MS = 60_000;

const Op = <N extends string>(name: N, description: string) => Type.Literal(name, { description });
const leaderTimeout = Type.Optional(
  Duration('how long to wait for a running leader after the call (default 60s)'),
);

const schema = Type.Union(
  [
    Strict({
      op: Op('switchover', 'planned: the leader hands over to a candidate (POST /switchover)'),
      leader: Type.Optional(Target('node', 'the current leader (default: whoever leads now)')),
      candidate: Type.Optional(Target('node', 'the member to promote (default: Patroni picks)')),
      scheduled_at: Type.Optional(Text('ISO 8601 time to switch over at (default: now)')),
      timeout: leaderTimeout,
    }),
    Strict({
      op: Op('failover', 'unplanned: promote a candidate even without a healthy leader (POST /failover)'),
      candidate: Target('node', 'the member to promote'),
      timeout: leaderTimeout,
    }),
    Strict({ op: Op('pause', 'maintenance mode: Patroni stops acting on failures (PATCH /config)') }),
    Strict({ op: Op('resume', 'leave maintenance mode (PATCH /config)') }),
    Strict({
      op: Op('configure', "change Patroni's dynamic configuration (PATCH /config; null removes a key)"),
      config: Type.Record(Type.String(), Type.Unknown(), {
        minProperties: 1,
        description: 'the keys to change, e.g. { synchronous_node_count: 2 }',
      }),
    }),
    Strict({
      op: Op('wait-leader', 'poll GET /cluster until a running leader other than `from` appears'),
      from: Type.Optional(Target('node', 'the leader being replaced (default: any running leader will do)')),
      timeout: leaderTimeout,
    }),
    Strict({
      op: Op('restart', "restart a member's PostgreSQL through Patroni (POST /restart)"),
      member: Target('node', 'the member to restart'),
    }),
    Strict({
      op: Op('reinit', 'rebuild a replica from the leader (POST /reinitialize)'),
      member: Target('node', 'the replica to rebuild'),
    }),
  ],
  { description: 'what to do; the fields depend on op' },
);

type PatroniInput = (typeof schema)['static'];

export const patroni = defineAction({
  kind: 'patroni',
  summary:
    'drive a Patroni cluster through its REST API: switchover, failover, pause, resume, configure, restart, reinit, or wait for its new leader',
  schema,
  outputs: Strict({
    op: Type.String(),
    leader: Type.Optional(Type.String({ description: 'the running leader after the step' })),
    previous: Type.Optional(Type.String({ description: 'the leader before the step' })),
    timeline: Type.Optional(Type.Integer({ description: "the leader's timeline" })),
    at: Type.Optional(Type.String({ description: 'when the new leader was first seen (ISO 8601)' })),
    waitedMs: Ms('from the start of the step until its effect was seen'),
    paused: Type.Optional(Type.Boolean()),
    message: Type.String({ description: "Patroni's answer, or what was seen" }),
  }),
  example: { id: 'handover', with: { op: 'switchover', candidate: 'pg2' } },
  async run(ctx, input) {
    const api = await patroniApi(ctx);
    const started = performance.now();
    const waited = () => Math.round(performance.now() - started);
    switch (input.op) {
      case 'pause':
      case 'resume': {
        const paused = input.op === 'pause';
        const member = await answeringMember(api);
        await patroniCall(api, member, 'PATCH', '/config', { pause: paused });
        ctx.log(`patroni: ${paused ? 'paused' : 'resumed'} (PATCH /config on ${member})`);
        return {
          op: input.op,
          paused,
          waitedMs: waited(),
          message: paused ? 'maintenance mode on' : 'maintenance mode off',
        };
      }
      case 'configure': {
        const member = await answeringMember(api);
        await patroniCall(api, member, 'PATCH', '/config', input.config);
        const changed = JSON.stringify(input.config);
        ctx.log(`patroni: PATCH /config ${changed} on ${member}`);
        return { op: input.op, waitedMs: waited(), message: `configured ${changed}` };
      }
      case 'restart':
      case 'reinit': {
        const cluster = await patroniCluster(api);
        const member = memberName(ctx, cluster, input.member, 'member');
        const path = input.op === 'restart' ? '/restart' : '/reinitialize';
        const message = await patroniCall(
          api,
          member,
          'POST',
          path,
          input.op === 'reinit' ? { force: true } : {},
        );
        ctx.log(`patroni: POST ${path} on ${member}: ${message}`);
        return { op: input.op, leader: leaderName(cluster), waitedMs: waited(), message };
      }
      case 'wait-leader': {
        const from = input.from === undefined ? undefined : resolveNode(ctx.env, input.from);
        const seen = await waitForLeader(ctx, api, from, timeoutMs(input.timeout));
        return { op: input.op, ...seen, previous: from, waitedMs: waited(), message: `${seen.leader} leads` };
      }
      case 'switchover':
      case 'failover': {
        const cluster = await patroniCluster(api);
        const previous = leaderName(cluster);
        const candidate = input.candidate && memberName(ctx, cluster, input.candidate, 'candidate');
        const body =
          input.op === 'switchover'
            ? {
                leader: input.leader
                  ? memberName(ctx, cluster, input.leader, 'leader')
                  : requireLeader(ctx, previous),
                ...(candidate && { candidate }),
                ...(input.scheduled_at && { scheduled_at: input.scheduled_at }),
              }
            : { candidate };
        // Any member accepts the call; the leader's API is the one that acts on it soonest.
        const message = await patroniCall(
          api,
          previous ?? (await answeringMember(api)),
          'POST',
          `/${input.op}`,
          body,
        );
        ctx.log(`patroni: POST /${input.op} ${JSON.stringify(body)}: ${message}`);
        if (input.op === 'switchover' && input.scheduled_at) {
          return { op: input.op, previous, waitedMs: waited(), message };
        }
        const other = previous === candidate ? undefined : previous;
        const timeline = cluster.members.find((m) => m.name === previous)?.timeline;
        const seen = await waitForLeader(ctx, api, other, timeoutMs(input.timeout), candidate, timeline);
        return { op: input.op, ...seen, previous, waitedMs: waited(), message };
      }
    }
  },
  async dryRun(_ctx, input) {
    return describe(input);
  },
});

function describe(input: PatroniInput): string {
  switch (input.op) {
    case 'switchover':
      return `would ask Patroni to switch over${input.leader ? ` from ${input.leader}` : ''}${input.candidate ? ` to ${input.candidate}` : ''}${input.scheduled_at ? ` at ${input.scheduled_at}` : ''}`;
    case 'failover':
      return `would ask Patroni to fail over to ${input.candidate}`;
    case 'pause':
    case 'resume':
      return `would ${input.op} Patroni (PATCH /config)`;
    case 'configure':
      return `would change Patroni's configuration: ${JSON.stringify(input.config)}`;
    case 'wait-leader':
      return `would wait for a running Patroni leader${input.from ? ` other than ${input.from}` : ''}`;
    case 'restart':
    case 'reinit':
      return `would ${input.op} ${input.member} through Patroni`;
  }
}

/**
 * Polls GET /cluster (every 100 ms at most) until a running leader other than `from` (and, when
 * given, the expected one) appears on a timeline past `from`'s. A member that does not answer is
 * tried past, not fatal: the old leader is usually the one that is gone. The timeline matters:
 * Patroni publishes a new leader's name a loop before its new timeline.
 */
async function waitForLeader(
  ctx: ActionContext,
  api: PatroniApi,
  from: string | undefined,
  timeout: number,
  expected?: string,
  pastTimeline?: number,
): Promise<{ leader: string; timeline?: number; at: string }> {
  let last = 'no answer yet';
  let fromTimeline = pastTimeline;
  const seen = await pollUntil(
    async () => {
      const cluster = await patroniCluster(api).catch((err: unknown) => {
        last = err instanceof Error ? err.message : String(err);
        return undefined;
      });
      if (!cluster) return undefined;
      fromTimeline =
        Math.max(fromTimeline ?? 0, cluster.members.find((m) => m.name === from)?.timeline ?? 0) || undefined;
      const leader = runningLeader(cluster);
      last = leader ? `${leader.name} leads on timeline ${leader.timeline ?? '?'}` : 'no running leader';
      if (!leader || leader.name === from || (expected && leader.name !== expected)) return undefined;
      if (fromTimeline !== undefined && (leader.timeline ?? 0) <= fromTimeline) return undefined;
      return { leader: leader.name, timeline: leader.timeline, at: new Date().toISOString() };
    },
    { timeoutMs: timeout, intervalMs: POLL_INTERVAL_MS, signal: ctx.signal },
  );
  if (!seen) {
    throw new StepFailure(
      `step ${ctx.stepId}: no running Patroni leader${from ? ` other than ${from}` : ''}${expected ? ` (expected ${expected})` : ''} within ${timeout / 1000} s; last seen: ${last}`,
      { retryable: true },
    );
  }
  ctx.log(`patroni: ${seen.leader} leads (timeline ${seen.timeline ?? '?'})`);
  return seen;
}

/** The first member whose API answers, for calls any member accepts. */
async function answeringMember(api: PatroniApi): Promise<string> {
  const cluster = await patroniCluster(api);
  return leaderName(cluster) ?? Object.keys(api.urls)[0]!;
}

function requireLeader(ctx: ActionContext, leader: string | undefined): string {
  if (!leader) {
    throw new StepFailure(
      `step ${ctx.stepId}: the Patroni cluster has no leader to switch over from; use op: failover`,
    );
  }
  return leader;
}

const timeoutMs = (text: string | undefined) => parseDuration(text ?? '') ?? DEFAULT_LEADER_TIMEOUT_MS;
