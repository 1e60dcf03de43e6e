// What a drill on a Patroni cluster watches beside its probe: the leader before the fault and each
// leader Patroni reports after it (GET /cluster every 100 ms, so "new leader elected" has a time),
// and a second probe pinned to the old leader's own address, which must take no write once another
// leader is elected (split brain: the frozen or cut-off leader waking up before Patroni demotes it).
import { setTimeout as sleep } from 'node:timers/promises';
import type { EnvContext } from '../actions/types.js';
import { connectPostgres } from '../connectors/postgres.js';
import {
  patroniCluster,
  patroniConfig,
  patroniHistory,
  runningLeader,
  type PatroniApi,
  type PatroniMember,
} from '../connectors/patroni.js';
import { errorMessage } from '../errors.js';
import type { PatroniFigures } from '../schema/drill-outcome.js';
import { Probe, type ProbeWrite } from './probe.js';

const POLL_MS = 100;
const HISTORY_WAIT_MS = 5000;
/** Patroni's default ttl, for a cluster whose GET /config does not say. */
const DEFAULT_TTL_S = 30;

interface LeaderSeen {
  name: string;
  timeline?: number;
  /** performance.now() when first seen. */
  at: number;
}

/**
 * Every member's view at once, and the running leader most of them name (ties: the later timeline):
 * a member that was cut off answers from its stale cache as soon as it is reachable again. Settles
 * as soon as a majority of the members agree, so a member that does not answer holds up nothing.
 * Undefined when no member answers; `leader` undefined when the views agree no one leads.
 */
function agreedLeader(api: PatroniApi): Promise<{ leader?: PatroniMember } | undefined> {
  const members = Object.entries(api.urls);
  const votes = new Map<string, { leader?: PatroniMember; n: number }>();
  const best = () =>
    [...votes.values()].sort(
      (a, b) => b.n - a.n || (b.leader?.timeline ?? -1) - (a.leader?.timeline ?? -1),
    )[0];
  return new Promise((resolve) => {
    let settled = 0;
    for (const [name, url] of members) {
      patroniCluster({ ...api, urls: { [name]: url } })
        .then((cluster) => {
          const leader = runningLeader(cluster);
          const key = leader ? `${leader.name}@${leader.timeline}` : '';
          const n = (votes.get(key)?.n ?? 0) + 1;
          votes.set(key, { leader, n });
          if (n > members.length / 2) resolve({ leader });
        })
        .catch(() => undefined)
        .finally(() => {
          if (++settled === members.length) resolve(best());
        });
    }
  });
}

export async function patroniApiOf(
  env: EnvContext,
  secret: (ref: string) => Promise<string>,
): Promise<PatroniApi> {
  const rest = env.ha!.rest;
  return {
    urls: rest.urls,
    ...(rest.username &&
      rest.password && { auth: { username: rest.username, password: await secret(rest.password) } }),
    ...(rest.ca && { ca: await secret(rest.ca) }),
  };
}

export class PatroniWatch {
  private readonly leaders: LeaderSeen[] = [];
  /** When members were first seen answering with no running leader, once per leaderless spell. */
  private readonly leaderless: number[] = [];
  private leaderlessNow = false;
  private stopped = false;
  private loop?: Promise<void>;
  private pinned?: Probe;

  private constructor(
    private readonly api: PatroniApi,
    readonly before: LeaderSeen,
  ) {}

  /** Starts watching: the running leader now is the one before the fault. */
  static async start(
    env: EnvContext,
    secret: (ref: string) => Promise<string>,
    runId: string,
    intervalMs: number,
  ): Promise<PatroniWatch> {
    const api = await patroniApiOf(env, secret);
    const leader = runningLeader(await patroniCluster(api));
    if (!leader) throw new Error('Patroni reports no running leader before the fault');
    const watch = new PatroniWatch(
      { ...api, timeoutMs: 500 },
      { name: leader.name, timeline: leader.timeline, at: performance.now() },
    );
    const node = env.postgres.nodes[leader.name];
    if (node) {
      watch.pinned = new Probe({
        connect: (timeoutMs) =>
          connectPostgres(
            {
              host: node.host,
              port: node.port,
              database: env.postgres.database,
              user: env.postgres.user,
              password: env.postgres.password,
            },
            { secret, connectTimeoutMs: timeoutMs, applicationName: 'drillbook-pinned-probe' },
          ),
        runId,
        // Impatient on purpose: it must see each write the old leader takes, not wait on a frozen one.
        profile: {
          name: `pinned-${leader.name}`,
          connectTimeoutMs: Math.max(500, intervalMs * 10),
          writeTimeoutMs: Math.max(500, intervalMs * 10),
          reconnectDelayMs: 0,
          via: [leader.name],
        },
        intervalMs,
      });
      await watch.pinned.start();
    }
    watch.loop = watch.poll();
    return watch;
  }

  private async poll(): Promise<void> {
    while (!this.stopped) {
      const cluster = await agreedLeader(this.api);
      const leader = cluster?.leader;
      const last = this.leaders.at(-1) ?? this.before;
      if (leader && (leader.name !== last.name || leader.timeline !== last.timeline)) {
        this.leaders.push({ name: leader.name, timeline: leader.timeline, at: performance.now() });
      }
      // Members answer, yet none leads: the leader key expired (or was released), no one holds it yet.
      if (cluster && !leader && !this.leaderlessNow) this.leaderless.push(performance.now());
      if (cluster) this.leaderlessNow = !leader;
      await sleep(POLL_MS);
    }
  }

  /**
   * Watches on for one ttl: a node that comes back when a timed fault ends (a partition heals, a
   * frozen node thaws) may still unsettle the cluster (a stale leader key read from its returning
   * DCS member, a disruptive etcd election), and a new leader that loses the key within a ttl of
   * the fault's end would be missed by a watch that stopped at once.
   */
  async settle(signal: AbortSignal): Promise<void> {
    const config = await patroniConfig(this.api).catch(() => ({ ttl: undefined }));
    // An interrupt or a stop condition ends the wait: what was seen until then is reported.
    await sleep((config.ttl ?? DEFAULT_TTL_S) * 1000, undefined, { signal }).catch(() => undefined);
  }

  /**
   * The last line of GET /history; after a failover, Patroni adds the line naming the new leader a
   * moment after the promotion, so it is waited for (briefly).
   */
  private async historyLine(newLeader: string | undefined): Promise<string | undefined> {
    const deadline = performance.now() + HISTORY_WAIT_MS;
    let last: string | undefined;
    for (;;) {
      const history = await patroniHistory(this.api).catch(
        (err: unknown) => `GET /history failed: ${errorMessage(err)}`,
      );
      const line = typeof history === 'string' ? history : history.at(-1);
      last = line === undefined || typeof line === 'string' ? line : JSON.stringify(line);
      const done = typeof line !== 'string' && (!newLeader || line?.[4] === newLeader);
      if (done || performance.now() > deadline) return last;
      await sleep(POLL_MS * 2);
    }
  }

  /**
   * Stops both, and gives the figures: times in ms after the fault. `probeWrites` are the judged
   * client's (through the clients' route): the first one the new leader acknowledged is "route",
   * the first acknowledged after the fault "clients back" (the drill's RTO, as measure.ts has it).
   */
  async stop(faultAt: number, probeWrites: readonly ProbeWrite[], env: EnvContext): Promise<PatroniFigures> {
    this.stopped = true;
    await this.loop;
    const pinnedWrites = (await this.pinned?.stop()) ?? [];
    const elected = this.leaders.find((l) => l.name !== this.before.name && l.at >= faultAt);
    // The old leader leading again after another was elected (a lost DCS can end so): its writes
    // from then on are the cluster's, not a split brain.
    const regained = elected && this.leaders.find((l) => l.at > elected.at && l.name === this.before.name);
    const after = this.leaders.at(-1) ?? this.before;
    const movedAgain = elected && this.leaders.find((l) => l.at > elected.at && l.name !== elected.name);
    const history = await this.historyLine(elected?.name);
    const old = env.postgres.nodes[this.before.name];
    const oldServer = old && `${old.host}:${old.port}`;
    const inWindow = (w: ProbeWrite) =>
      elected !== undefined &&
      w.ackAt !== undefined &&
      w.ackAt > elected.at &&
      w.ackAt < (regained?.at ?? Infinity);
    return {
      leaderBefore: this.before.name,
      leaderAfter: after.name,
      timelineBefore: this.before.timeline,
      timelineAfter: after.timeline,
      failover: elected !== undefined,
      history,
      pinnedWrites: {
        sent: pinnedWrites.length,
        acked: pinnedWrites.filter((w) => w.ackAt !== undefined).length,
      },
      // On the old leader's own address, and through the clients' route when it still led them there.
      splitBrainWrites:
        pinnedWrites.filter(inWindow).length +
        probeWrites.filter((w) => w.server === oldServer && inWindow(w)).length,
      ...(movedAgain && {
        leaderMovedAgain: { name: movedAgain.name, ms: Math.max(0, Math.round(movedAgain.at - faultAt)) },
      }),
      chain: this.chain(faultAt, elected, regained, probeWrites, env),
    };
  }

  /** fault → leader key expired → new leader elected → promoted → route → clients back, in the order it happened. */
  private chain(
    faultAt: number,
    elected: LeaderSeen | undefined,
    regained: LeaderSeen | undefined,
    probeWrites: readonly ProbeWrite[],
    env: EnvContext,
  ): PatroniFigures['chain'] {
    const since = (t: number) => Math.max(0, Math.round(t - faultAt));
    const expired = this.leaderless.find((t) => t >= faultAt && (!elected || t <= elected.at));
    // Patroni names the new leader before its /cluster shows the new timeline.
    const promoted =
      elected &&
      this.leaders.find((l) => l.at >= elected.at && (l.timeline ?? 0) > (this.before.timeline ?? 0));
    const newNode = elected && env.postgres.nodes[elected.name];
    const routed =
      newNode &&
      probeWrites.find(
        (w) => w.ackAt !== undefined && w.sentAt >= faultAt && w.server === `${newNode.host}:${newNode.port}`,
      );
    // Back after having been away: a fault whose harm comes later (the DCS lost) lets writes land first.
    const away = probeWrites.find((w) => w.ackAt === undefined && w.sentAt >= faultAt);
    const back = probeWrites.find((w) => w.ackAt !== undefined && w.sentAt >= (away?.sentAt ?? faultAt));
    return [
      { what: 'fault', ms: 0 },
      ...(expired !== undefined
        ? [
            {
              what: 'leader key expired: no running leader',
              ms: since(expired),
              mark: 'leader-lost' as const,
            },
          ]
        : []),
      ...(elected
        ? [
            {
              what: `new leader ${elected.name} elected`,
              ms: since(elected.at),
              mark: 'leader-elected' as const,
            },
          ]
        : []),
      ...(promoted
        ? [
            {
              what: `Patroni reports ${promoted.name} on timeline ${promoted.timeline}`,
              ms: since(promoted.at),
              mark: 'promoted' as const,
            },
          ]
        : []),
      ...(routed
        ? [
            {
              what: `route: HAProxy sends writes to ${elected!.name}`,
              ms: since(routed.ackAt!),
              mark: 'routed' as const,
            },
          ]
        : []),
      ...(regained
        ? [{ what: `${regained.name} leads again`, ms: since(regained.at), mark: 'leader-elected' as const }]
        : []),
      ...(back ? [{ what: 'clients back', ms: since(back.ackAt!) }] : []),
      // In the order it happened: /cluster shows the new timeline a loop after the promotion,
      // often after HAProxy already routes to the new leader.
    ].sort((a, b) => a.ms - b.ms);
  }
}
