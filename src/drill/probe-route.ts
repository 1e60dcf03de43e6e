// How the probe reaches the database: the way clients do, through the router's listener or the DNS
// name resolved by the zone's own servers, on a fresh connection each time the old one broke.
import { Resolver } from 'node:dns/promises';
import type { Client } from 'pg';
import type { EnvContext } from '../actions/types.js';
import { connectPostgres } from '../connectors/postgres.js';
import { UserError } from '../errors.js';
import type { Drill } from '../schema/drill.js';
import { resolveNode } from '../schema/inventory.js';

export type Connect = (timeoutMs: number) => Promise<Client>;

export interface ProbeRoute {
  description: string;
  connect: Connect;
}

export function probeRoute(
  env: EnvContext,
  probe: Drill['probe'],
  secret: (ref: string) => Promise<string>,
): ProbeRoute {
  const via = probe?.via ?? 'router';
  const credentials = {
    database: env.postgres.database,
    user: env.postgres.user,
    password: env.postgres.password,
  };
  const direct = (what: string, { host, port }: { host: string; port: number }): ProbeRoute => ({
    description: `${what} (${host}:${port})`,
    connect: (timeoutMs) =>
      connectPostgres(
        { host, port, ...credentials },
        { secret, connectTimeoutMs: timeoutMs, applicationName: 'drillbook-probe' },
      ),
  });
  if (via === 'router') {
    const name = probe?.router ?? Object.keys(env.routers ?? {})[0];
    const router = name ? env.routers?.[name] : undefined;
    if (!router) throw new UserError(`the probe goes through a router, but environment ${env.name} has none`);
    return direct(`router ${name}`, router.listen);
  }
  if (via === 'node') {
    // Straight to a node's address: a managed database's cluster endpoint, which its provider
    // points at the writer (the DNS name is resolved again on each new connection).
    const node = resolveNode(env, probe?.node ?? env.primary);
    const endpoint = env.postgres.nodes[node];
    if (!endpoint)
      throw new UserError(`the probe goes to node ${node}, but environment ${env.name} has none`);
    return direct(`node ${node}`, endpoint);
  }
  const name = probe?.record ?? Object.keys(env.dns?.records ?? {})[0];
  const record = name ? env.dns?.records[name] : undefined;
  const zone = record ? env.dns?.zones[record.zone] : undefined;
  if (!record || !zone)
    throw new UserError(`the probe goes through DNS, but environment ${env.name} has no such record`);
  const resolver = new Resolver({ timeout: 500, tries: 1 });
  resolver.setServers(zone.nameservers.map((ns) => `${ns.host}:${ns.port}`));
  return {
    description: `DNS name ${record.name} (servers ${zone.nameservers.map((ns) => `${ns.host}:${ns.port}`).join(', ')})`,
    connect: async (timeoutMs) => {
      const [address] = await resolver.resolve4(record.name.replace(/\.$/, ''));
      if (!address) throw new Error(`${record.name} has no A record`);
      // The port is the node's whose address the name carries (all nodes in the lab share one).
      const node = Object.values(env.postgres.nodes).find((n) => n.host === address);
      return connectPostgres(
        { host: address, port: node?.port ?? 5432, ...credentials },
        { secret, connectTimeoutMs: timeoutMs, applicationName: 'drillbook-probe' },
      );
    },
  };
}
