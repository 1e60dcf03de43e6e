// repoint: the replication tree after a node is lost, or back to its steady state. `working`
// re-points every replica whose upstream is gone (lost, or not answering) at the primary and keeps
// every link that still works; `steady` rebuilds the inventory's tree (each replica on its recorded
// upstream, level by level from the primary). Each re-pointing is a `rejoin` of that replica.
import { Type } from '@sinclair/typebox';
import { withNode } from '../connectors/postgres.js';
import { errorMessage } from '../errors.js';
import { resolveNode, steadyUpstream, treeLevels } from '../schema/inventory.js';
import { OneOf, Strict, Target, Targets } from '../schema/common.js';
import { rejoin } from './rejoin.js';
import { readUpstream } from './upstream.js';
import { defineAction, type ActionContext } from './types.js';

const PROBE_TIMEOUT_MS = 2000;

const schema = Strict({
  primary: Target('node', 'the current primary'),
  tree: Type.Optional(
    OneOf(['working', 'steady'], {
      default: 'working',
      description:
        'working: re-point the replicas whose upstream is gone at the primary, keep the rest; steady: every replica back on its upstream from the inventory',
    }),
  ),
  lost: Type.Optional(
    Targets('node', 'nodes known lost (a fenced old primary): their links count as gone even if they answer'),
  ),
  onRewindFailure: Type.Optional(
    OneOf(['fail', 'reclone'], { default: 'fail', description: 'as rejoin: when pg_rewind cannot run' }),
  ),
});

type RepointInput = (typeof schema)['static'];

interface Link {
  node: string;
  upstream: string;
  action: 'kept' | 'repointed';
}

export const repoint = defineAction({
  kind: 'repoint',
  summary:
    're-point the replicas whose upstream is gone (a cascade) at the primary, or restore the steady tree',
  schema,
  outputs: Strict({
    primary: Type.String(),
    tree: Type.Record(Type.String(), Type.String(), {
      description: 'each replica → the node it streams from now',
    }),
    repointed: Type.Array(Type.String()),
    kept: Type.Array(Type.String()),
    skipped: Type.Record(Type.String(), Type.String(), { description: 'nodes left alone, and why' }),
  }),
  example: { id: 'follow', with: { primary: '${{ steps.pick.outputs.node }}', lost: ['primary'] } },
  async run(ctx, input) {
    const primary = resolveNode(ctx.env, input.primary);
    const { links, skipped } =
      input.tree === 'steady' ? await steadyLinks(ctx, primary) : await workingLinks(ctx, input, primary);
    // Orphans first: a kept link below one of them streams once its upstream does.
    const ordered = [
      ...links.filter((l) => l.action === 'repointed'),
      ...links.filter((l) => l.action === 'kept'),
    ];
    for (const link of ordered) {
      ctx.log(
        `${link.node}: ${link.action === 'kept' ? 'keeps streaming from' : 'follows'} ${link.upstream}`,
      );
      await rejoin.run!(ctx, {
        target: link.node,
        primary: link.upstream,
        cascade: link.upstream !== primary,
        onRewindFailure: input.onRewindFailure ?? 'fail',
      });
    }
    for (const [node, why] of Object.entries(skipped)) ctx.log(`${node}: left alone, ${why}`);
    return {
      primary,
      tree: Object.fromEntries(links.map((l) => [l.node, l.upstream])),
      repointed: links.filter((l) => l.action === 'repointed').map((l) => l.node),
      kept: links.filter((l) => l.action === 'kept').map((l) => l.node),
      skipped,
    };
  },
  async dryRun(ctx, input) {
    const primary = resolveNode(ctx.env, input.primary);
    return input.tree === 'steady'
      ? `would put every replica back on its upstream from the inventory, starting at ${primary}`
      : `would re-point at ${primary} every replica whose upstream is gone${input.lost ? ` (lost: ${lostNames(ctx, input).join(', ')})` : ''} and keep the links that stream`;
  },
});

const lostNames = (ctx: ActionContext, input: RepointInput): string[] => {
  const list = input.lost === undefined ? [] : Array.isArray(input.lost) ? input.lost : [input.lost];
  return list.map((n) => resolveNode(ctx.env, n));
};

/**
 * The inventory's tree under the environment primary, level by level; the primary must be it.
 * Within a level the running replicas come first: re-pointing one is a reload, and with
 * synchronous replication the primary acknowledges no write until one streams, so clients should
 * not wait for a stopped node's rewind and restart (a failback's fenced primary) before that.
 */
async function steadyLinks(ctx: ActionContext, primary: string) {
  const nodes = Object.keys(ctx.env.postgres.nodes).filter((n) => n !== ctx.env.primary);
  const upstreams = Object.fromEntries(nodes.map((n) => [n, steadyUpstream(ctx.env, n)]));
  const levels = treeLevels(upstreams, primary);
  const placed = levels.flat();
  const views = await Promise.all(placed.map((n) => probe(ctx, n)));
  const running = new Set(placed.filter((_, i) => typeof views[i] !== 'string'));
  const links = levels
    .flatMap((level) => [...level.filter((n) => running.has(n)), ...level.filter((n) => !running.has(n))])
    .map((node): Link => ({ node, upstream: upstreams[node]!, action: 'repointed' }));
  const skipped = Object.fromEntries(
    nodes
      .filter((n) => !placed.includes(n) && n !== primary)
      .map((n) => [n, `its upstream chain does not lead to ${primary}`]),
  );
  return { links, skipped };
}

/** Each other node as it runs: a replica whose upstream answers keeps it; the others follow the primary. */
async function workingLinks(ctx: ActionContext, input: RepointInput, primary: string) {
  const lost = new Set(lostNames(ctx, input));
  const nodes = Object.keys(ctx.env.postgres.nodes).filter((n) => n !== primary && !lost.has(n));
  const views = await Promise.all(nodes.map((n) => probe(ctx, n)));
  const answering = new Set(nodes.filter((_, i) => typeof views[i] !== 'string'));
  const links: Link[] = [];
  const skipped: Record<string, string> = {};
  nodes.forEach((node, i) => {
    const view = views[i]!;
    if (typeof view === 'string') return void (skipped[node] = view);
    const up = view.upstream;
    const works = up !== undefined && (up === primary || (answering.has(up) && !lost.has(up)));
    links.push({ node, upstream: works ? up : primary, action: works ? 'kept' : 'repointed' });
  });
  for (const n of lost) skipped[n] = 'lost';
  return { links, skipped };
}

/** The node's upstream, or why it is not a replica to re-point (unreachable, or a primary). */
async function probe(ctx: ActionContext, node: string) {
  const options = { signal: ctx.signal, secret: ctx.secret, connectTimeoutMs: PROBE_TIMEOUT_MS };
  return withNode(ctx.env, node, options, async (c) => {
    const { rows } = await c.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
    return rows[0]?.r ? readUpstream(c, ctx.env) : 'not a replica (a primary)';
  }).catch((err: unknown) => `unreachable: ${errorMessage(err)}`);
}
