import { didYouMean } from '../../system/suggest.js';
import { error, type Finding, type Rule } from './types.js';

/** Inside an inventory, names point at things that exist (primary, replicas, ssh hosts, zones). */
export const inventoryConsistency: Rule = {
  name: 'inventory-consistency',
  check(ctx) {
    if (ctx.doc.kind !== 'Inventory') return [];
    const findings: Finding[] = [];
    for (const [name, env] of Object.entries(ctx.doc.data.environments)) {
      const base = ['environments', name];
      const nodes = Object.keys(env.postgres.nodes);
      const need = (value: string, known: string[], what: string, path: (string | number)[]) => {
        if (!known.includes(value))
          findings.push(
            error(
              [...base, ...path],
              `unknown ${what} "${value}"${didYouMean(value, known)}; known: ${known.join(', ') || 'none'}`,
            ),
          );
      };
      need(env.primary, nodes, 'node', ['primary']);
      env.replicas.forEach((r, i) => need(r, nodes, 'node', ['replicas', i]));
      if (env.replicas.includes(env.primary))
        findings.push(
          error([...base, 'replicas'], `the primary "${env.primary}" is also listed as a replica`),
        );
      const sshHosts = Object.keys(env.ssh ?? {});
      for (const [n, node] of Object.entries(env.postgres.nodes)) {
        if (node.ssh) need(node.ssh, sshHosts, 'SSH host', ['postgres', 'nodes', n, 'ssh']);
        if (node.upstream === undefined) continue;
        const at = [...base, 'postgres', 'nodes', n, 'upstream'];
        if (n === env.primary) findings.push(error(at, `the primary "${n}" streams from no one`));
        else if (!nodes.includes(node.upstream)) need(node.upstream, nodes, 'node', at.slice(base.length));
        else if (upstreamLoop(n, env.postgres.nodes))
          findings.push(error(at, `${upstreamLoop(n, env.postgres.nodes)} is a loop of upstreams`));
      }
      const zones = Object.keys(env.dns?.zones ?? {});
      for (const [r, rec] of Object.entries(env.dns?.records ?? {}))
        need(rec.zone, zones, 'DNS zone', ['dns', 'records', r, 'zone']);
    }
    return findings;
  },
};

/** The upstream chain from a node when it comes back to a node already on it, as text. */
function upstreamLoop(start: string, nodes: Record<string, { upstream?: string }>): string | undefined {
  const path = [start];
  for (let n = nodes[start]?.upstream; n !== undefined; n = nodes[n]?.upstream) {
    if (path.includes(n)) return [...path, n].join(' < ');
    path.push(n);
  }
  return undefined;
}
