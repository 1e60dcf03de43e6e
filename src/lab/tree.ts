// The replication tree as it runs: each replica under the node its WAL receiver streams from (the
// built upstream when it streams from nowhere), with the link's state and lag as that upstream sees it.
import type { LabConfig } from './config.js';
import type { NodeStatus } from './node-status.js';

export interface TreeLink {
  node: string;
  /** Where it streams from now; the built upstream when it does not stream. */
  upstream: string;
  /** The upstream it was built with. */
  built: string;
  /** pg_stat_replication's state on the upstream, or why there is none. */
  state: string;
  syncState?: string;
  lagBytes?: number | null;
}

export interface ReplicationTree {
  /** Nodes that run as primaries (more than one is a split brain). */
  primaries: string[];
  links: TreeLink[];
}

export function replicationTree(
  config: LabConfig,
  status: ReadonlyMap<string, NodeStatus | undefined>,
): ReplicationTree {
  const byAddress = new Map(config.nodes.map((n) => [`${n.host}:${n.port}`, n.name]));
  const primaries = config.nodes.filter((n) => status.get(n.name)?.role === 'primary').map((n) => n.name);
  const links = config.nodes.flatMap((n): TreeLink[] => {
    const s = status.get(n.name);
    const built = config.upstreams[n.name] ?? config.nodes[0]!.name;
    if (s?.role === 'primary') return [];
    if (!s || s.role === 'unknown') {
      if (!config.upstreams[n.name]) return []; // the built primary, down: no link to draw
      return [{ node: n.name, upstream: built, built, state: s?.error ? 'unreachable' : 'down' }];
    }
    const live = s.sender && byAddress.get(`${s.sender.host}:${s.sender.port}`);
    const upstream = live ?? built;
    const seen = status.get(upstream)?.streams.find((x) => x.name === n.name);
    return [
      seen
        ? {
            node: n.name,
            upstream,
            built,
            state: seen.state,
            syncState: seen.syncState,
            lagBytes: seen.lagBytes,
          }
        : { node: n.name, upstream, built, state: `not streaming (WAL receiver ${String(s.replication)})` },
    ];
  });
  return { primaries, links };
}
