// The lab's replication shape: which node each replica streams from (a tree rooted at the
// primary), and which of the primary's standbys its commits wait for.
import { UserError } from '../errors.js';

/** Replica name → the node it streams from. */
export type Upstreams = Record<string, string>;

export const SYNC_MODES = ['async', 'quorum', 'first', 'all'] as const;
export type SyncMode = (typeof SYNC_MODES)[number];

/** What commits wait for: `count` of the primary's direct standbys (0 with async). */
export interface SyncRule {
  mode: SyncMode;
  count: number;
}

/**
 * `--topology`: `star` (every replica on the primary, the default), `cascade` (a chain
 * pg1>pg2>...>pgN), or links such as `pg1>pg2,pg2>pg3` (a link may chain: `pg1>pg2>pg3`).
 * Replicas no link names stream from the primary. The first node is the primary.
 */
export function parseTopology(spec: string | undefined, nodes: readonly string[]): Upstreams {
  const [primary, ...replicas] = nodes;
  const upstreams: Upstreams = Object.fromEntries(replicas.map((r) => [r, primary!]));
  const text = (spec ?? 'star').trim();
  if (text === 'star') return upstreams;
  if (text === 'cascade') return Object.fromEntries(replicas.map((r, i) => [r, nodes[i]!]));
  const named = new Set<string>();
  for (const link of text.split(',')) {
    const chain = link.split('>').map((s) => s.trim());
    if (chain.length < 2 || chain.some((n) => n === '')) {
      throw topologyError(`"${link.trim()}" is not a link; write UPSTREAM>REPLICA, e.g. pg1>pg2`);
    }
    for (const name of chain) {
      if (!nodes.includes(name)) {
        throw topologyError(
          `"${name}" is not a node of this lab (${nodes.join(', ')}); --replicas sets how many`,
        );
      }
    }
    for (let i = 1; i < chain.length; i++) {
      const [up, down] = [chain[i - 1]!, chain[i]!];
      if (down === primary)
        throw topologyError(`${primary} is the primary; it streams from no one (${up}>${down})`);
      if (up === down) throw topologyError(`${down} cannot stream from itself (${up}>${down})`);
      if (named.has(down) && upstreams[down] !== up) {
        throw topologyError(
          `${down} has two upstreams, ${upstreams[down]} and ${up}; a replica streams from one node`,
        );
      }
      named.add(down);
      upstreams[down] = up;
    }
  }
  for (const replica of replicas) {
    const loop = loopFrom(replica, upstreams, primary!);
    if (loop)
      throw topologyError(
        `${loop.reverse().join('>')} is a loop: every replica must lead back to ${primary}`,
      );
  }
  return upstreams;
}

/** The canonical text of a tree (every link), so that parsing it again gives the same tree. */
export const formatTopology = (upstreams: Upstreams): string =>
  Object.entries(upstreams)
    .map(([down, up]) => `${up}>${down}`)
    .join(',');

/** The primary's direct standbys: the only ones its commits can wait for. */
export const directStandbys = (upstreams: Upstreams, primary: string): string[] =>
  Object.keys(upstreams).filter((r) => upstreams[r] === primary);

/**
 * `--sync-mode async|quorum|first|all`, optionally `quorum:N` / `first:N` (ANY N / FIRST N);
 * `all` waits for every direct standby. The count may not exceed the primary's direct standbys.
 */
export function parseSyncMode(text: string, upstreams: Upstreams, primary: string): SyncRule {
  const match = /^(async|quorum|first|all)(?::(\d+))?$/.exec(text.trim());
  if (!match || (match[2] !== undefined && (match[1] === 'async' || match[1] === 'all'))) {
    throw new UserError(
      `--sync-mode must be async, quorum, first or all (quorum:N and first:N set how many standbys), got "${text}"`,
    );
  }
  const mode = match[1] as SyncMode;
  if (mode === 'async') return { mode, count: 0 };
  const direct = directStandbys(upstreams, primary);
  const count = mode === 'all' ? direct.length : Number(match[2] ?? 1);
  if (count < 1 || count > direct.length) {
    throw new UserError(
      `--sync-mode ${text} waits for ${Math.max(count, 1)} standby(s), but ${primary} has ${direct.length} direct standby(s)${direct.length ? ` (${direct.join(', ')})` : ''}: only the primary's direct standbys can be synchronous`,
    );
  }
  return { mode, count };
}

/** The synchronous_standby_names of the rule, over the names listed (in priority order). */
export function synchronousStandbyNames(rule: SyncRule, names: readonly string[]): string {
  if (rule.mode === 'async' || names.length === 0) return '';
  const keyword = rule.mode === 'quorum' ? 'ANY' : 'FIRST';
  return `${keyword} ${rule.count} (${names.join(', ')})`;
}

/** The nodes from `start` up its upstreams until a repeat (a loop), or undefined when it reaches the primary. */
function loopFrom(start: string, upstreams: Upstreams, primary: string): string[] | undefined {
  const path = [start];
  for (let node = upstreams[start]; node !== undefined && node !== primary; node = upstreams[node]) {
    const at = path.indexOf(node);
    if (at >= 0) return [...path.slice(at), node];
    path.push(node);
  }
  return undefined;
}

const topologyError = (message: string) => new UserError(`--topology: ${message}`);
