// select-replica: the most advanced replica among candidates (highest receive LSN, then replay
// LSN), refused when it lags more than maxLagBytes (Patroni's maximum_lag_on_failover).
import { Type } from '@sinclair/typebox';
import { withNode } from '../connectors/postgres.js';
import { parseDuration } from '../duration.js';
import { StepFailure, errorMessage } from '../errors.js';
import { resolveNode } from '../schema/inventory.js';
import { Duration, Strict, Targets } from '../schema/common.js';
import { laterLsn, lsnDistance, parseLsn } from './lsn.js';
import { defineAction, type ActionContext } from './types.js';
import { OrNull } from './contract.js';
import { readUpstream } from './upstream.js';

const DEFAULT_MAX_LAG_BYTES = 1024 * 1024;
const DEFAULT_CONNECT_TIMEOUT_MS = 2000;

export interface Candidate {
  node: string;
  reachable: boolean;
  replica?: boolean;
  receiveLsn?: string | null;
  replayLsn?: string | null;
  /** Bytes behind the reference (highest LSN seen): WAL it has not replayed, received or not. */
  lagBytes?: number;
  /** Bytes behind the reference it has not even received: lost if it is promoted now. */
  unreceivedBytes?: number;
  /** The node it streams (or last tried to stream) from: the old primary, or a replica in a cascade. */
  upstream?: string;
  skipped?: string;
}

interface Position {
  inRecovery: boolean;
  receive: string | null;
  replay: string | null;
  current: string | null;
  upstream?: string;
}

export const selectReplica = defineAction({
  kind: 'select-replica',
  summary: 'pick the most advanced replica; refuse one lagging more than maxLagBytes',
  idempotent: true,
  schema: Strict({
    candidates: Targets('node', 'replica nodes to choose from'),
    maxLagBytes: Type.Optional(
      Type.Integer({
        minimum: 0,
        default: DEFAULT_MAX_LAG_BYTES,
        description:
          'refuse a replica whose replay is further behind the most advanced known position (bytes)',
      }),
    ),
    allowLag: Type.Optional(Type.Boolean({ description: 'accept a replica beyond maxLagBytes (data loss)' })),
    connectTimeout: Type.Optional(Duration('per-node connection timeout (default 2s)')),
  }),
  outputs: Strict({
    node: Type.String({ description: 'the most advanced usable replica' }),
    lsn: OrNull(Type.String()),
    lagBytes: Type.Optional(Type.Integer()),
    primaryLsn: OrNull(Type.String({ description: 'the old primary’s position, when it answered' })),
    candidates: Type.Array(
      Strict({
        node: Type.String(),
        reachable: Type.Boolean(),
        replica: Type.Optional(Type.Boolean()),
        receiveLsn: Type.Optional(OrNull(Type.String())),
        replayLsn: Type.Optional(OrNull(Type.String())),
        lagBytes: Type.Optional(Type.Integer()),
        unreceivedBytes: Type.Optional(Type.Integer()),
        upstream: Type.Optional(Type.String()),
        skipped: Type.Optional(Type.String()),
      }),
    ),
    tree: Type.Record(Type.String(), Type.String(), {
      description: 'each reachable candidate → the node it streamed from (the tree before the failover)',
    }),
  }),
  example: { id: 'pick', with: { candidates: '${{ env.replicas }}', maxLagBytes: 0 } },
  async run(ctx, input) {
    const timeoutMs = parseDuration(input.connectTimeout ?? '') ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const names = candidateNames(ctx, input.candidates);
    const oldPrimary = resolveNode(ctx.env, 'primary');
    const [positions, primary] = await Promise.all([
      Promise.allSettled(names.map((n) => readPosition(ctx, n, timeoutMs))),
      // The old primary's LSN, when it still answers (planned switchover, or a partial failure).
      names.includes(oldPrimary)
        ? Promise.resolve(undefined)
        : readPosition(ctx, oldPrimary, timeoutMs).catch(() => undefined),
    ]);
    const primaryLsn = primary && !primary.inRecovery ? primary.current : null;
    const candidates: Candidate[] = names.map((node, i) => {
      const settled = positions[i]!;
      if (settled.status === 'rejected') {
        return { node, reachable: false, skipped: `unreachable: ${errorMessage(settled.reason)}` };
      }
      const p = settled.value;
      if (!p.inRecovery)
        return {
          node,
          reachable: true,
          replica: false,
          skipped: 'not a replica (pg_is_in_recovery() = false)',
        };
      return {
        node,
        reachable: true,
        replica: true,
        receiveLsn: p.receive,
        replayLsn: p.replay,
        ...(p.upstream !== undefined && { upstream: p.upstream }),
      };
    });
    const usable = candidates.filter((c) => !c.skipped && (c.receiveLsn || c.replayLsn));
    const reference = [primaryLsn, ...usable.map((c) => laterLsn(c.receiveLsn, c.replayLsn))].reduce(
      laterLsn,
      null,
    );
    for (const c of usable) {
      c.lagBytes = lsnDistance(reference!, laterLsn(c.replayLsn, null) ?? c.receiveLsn!);
      c.unreceivedBytes = lsnDistance(reference!, laterLsn(c.receiveLsn, c.replayLsn)!);
    }
    for (const c of candidates) {
      ctx.log(
        c.skipped
          ? `${c.node}: skipped, ${c.skipped}`
          : `${c.node}${c.upstream ? ` (from ${c.upstream})` : ''}: receive ${c.receiveLsn ?? '-'}, replay ${c.replayLsn ?? '-'}, ${c.lagBytes} bytes behind`,
      );
    }
    const best = usable.sort(byProgress)[0];
    if (!best) {
      throw new StepFailure(
        `no usable replica among ${names.join(', ')}: ${candidates.map((c) => `${c.node} ${c.skipped}`).join('; ')}`,
        { retryable: true },
      );
    }
    const maxLag = input.maxLagBytes ?? DEFAULT_MAX_LAG_BYTES;
    const outputs = {
      node: best.node,
      lsn: laterLsn(best.receiveLsn, best.replayLsn),
      lagBytes: best.lagBytes,
      primaryLsn,
      candidates,
      tree: Object.fromEntries(candidates.flatMap((c) => (c.upstream ? [[c.node, c.upstream]] : []))),
    };
    if (best.lagBytes! > maxLag) {
      if (!input.allowLag) {
        // Retryable only when it has received everything and just replays behind (that passes on
        // its own); WAL it never received will not come, so a person decides (allowLag).
        throw new StepFailure(
          `the most advanced replica ${best.node} is ${best.lagBytes} bytes behind ${primaryLsn ? `the primary (${primaryLsn})` : 'the most advanced position'} (${best.unreceivedBytes} not received), more than maxLagBytes ${maxLag}; set allowLag: true to accept the loss`,
          { retryable: best.unreceivedBytes === 0 },
        );
      }
      ctx.log(
        `${best.node} is ${best.lagBytes} bytes behind, beyond maxLagBytes ${maxLag}: accepted (allowLag)`,
      );
    }
    return outputs;
  },
  async dryRun(ctx, input) {
    return `would read the WAL positions of ${candidateNames(ctx, input.candidates).join(', ')} and pick the most advanced (max lag ${input.maxLagBytes ?? DEFAULT_MAX_LAG_BYTES} bytes)`;
  },
});

function candidateNames(ctx: ActionContext, candidates: string[] | string): string[] {
  // An expression renders to the list before run; a lone string here is one node.
  const list = Array.isArray(candidates) ? candidates : [candidates];
  return [...new Set(list.map((c) => resolveNode(ctx.env, c)))];
}

/** Highest receive LSN first, then highest replay LSN; the candidate order breaks ties. */
function byProgress(a: Candidate, b: Candidate): number {
  const cmp = (x?: string | null, y?: string | null) => {
    const d = parseLsn(y ?? '0/0') - parseLsn(x ?? '0/0');
    return d > 0n ? 1 : d < 0n ? -1 : 0;
  };
  return (
    cmp(laterLsn(a.receiveLsn, a.replayLsn), laterLsn(b.receiveLsn, b.replayLsn)) ||
    cmp(a.replayLsn, b.replayLsn)
  );
}

async function readPosition(ctx: ActionContext, node: string, timeoutMs: number): Promise<Position> {
  const options = { signal: ctx.signal, secret: ctx.secret, connectTimeoutMs: timeoutMs };
  return withNode(ctx.env, node, options, async (client) => {
    const { rows } = await client.query<Position>(
      `SELECT pg_is_in_recovery() AS "inRecovery",
              pg_last_wal_receive_lsn()::text AS receive,
              pg_last_wal_replay_lsn()::text AS replay,
              CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END AS current`,
    );
    const position = rows[0]!;
    if (!position.inRecovery) return position;
    const { upstream } = await readUpstream(client, ctx.env);
    return upstream === undefined ? position : { ...position, upstream };
  });
}
