// Which node is primary now. After a failover the inventory's steady-state `primary` is stale, and
// a fenced old primary may still run as a primary too: the node clients reach through their route
// is the one that counts; asking every node is the fallback.
import type { EnvContext } from '../actions/types.js';
import { withNode } from '../connectors/postgres.js';
import type { Connect } from './probe-route.js';

export async function currentPrimary(
  env: EnvContext,
  connect: Connect,
  secret: (ref: string) => Promise<string>,
): Promise<{ node?: string; why: string }> {
  const routed = await behindRoute(env, connect).catch(() => undefined);
  if (routed) return { node: routed, why: `the route reaches ${routed}` };
  const primaries = await everyPrimary(env, secret);
  return primaries.length === 1
    ? { node: primaries[0], why: `${primaries[0]} is the only primary` }
    : {
        why: `the route reaches no primary and ${primaries.length} nodes are primaries (${primaries.join(', ') || 'none'})`,
      };
}

/** The node clients reach through their route, when it is a primary. */
export async function behindRoute(env: EnvContext, connect: Connect): Promise<string | undefined> {
  const client = await connect(3000);
  try {
    const { rows } = await client.query<{ host: string; port: number; recovery: boolean }>(
      'SELECT host(inet_server_addr()) AS host, inet_server_port() AS port, pg_is_in_recovery() AS recovery',
    );
    const r = rows[0];
    if (!r || r.recovery) return undefined;
    return Object.entries(env.postgres.nodes).find(([, n]) => n.host === r.host && n.port === r.port)?.[0];
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function everyPrimary(env: EnvContext, secret: (ref: string) => Promise<string>): Promise<string[]> {
  const answers = await Promise.all(
    Object.keys(env.postgres.nodes).map(async (node) => {
      try {
        const recovery = await withNode(env, node, { secret, connectTimeoutMs: 2000 }, async (c) => {
          const { rows } = await c.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
          return rows[0]?.r;
        });
        return recovery === false ? node : undefined;
      } catch {
        return undefined; // down or cut off: not a primary anyone can use
      }
    }),
  );
  return answers.filter((n): n is string => n !== undefined);
}
