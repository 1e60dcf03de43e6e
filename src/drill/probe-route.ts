// How the probe reaches the database: the way clients do, through the router's listener, the DNS
// name resolved by the zone's own servers, or a list of nodes tried in order (libpq multi-host with
// target_session_attrs=read-write), on a fresh connection each time the old one broke.
import { Resolver } from 'node:dns/promises';
import type { Client } from 'pg';
import type { EnvContext } from '../actions/types.js';
import { connectPostgres } from '../connectors/postgres.js';
import { UserError } from '../errors.js';
import type { Drill } from '../schema/drill.js';
import { resolveNode } from '../schema/inventory.js';
import type { ClientRoute } from './client-profiles.js';
import { withTimeout } from './probe.js';

export type Connect = (timeoutMs: number) => Promise<Client>;

export interface ProbeRoute {
  description: string;
  connect: Connect;
}

export function probeRoute(
  env: EnvContext,
  probe: Drill['probe'],
  secret: (ref: string) => Promise<string>,
  via: ClientRoute = probe?.via ?? 'router',
): ProbeRoute {
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
  if (Array.isArray(via)) return multiHostRoute(env, via, credentials, secret);
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

type Credentials = { database: string; user: string; password?: string };

/**
 * libpq's multi-host semantics with target_session_attrs=read-write: each node in order gets the
 * whole connect timeout; one in recovery is closed and the next tried; the last error is thrown.
 */
function multiHostRoute(
  env: EnvContext,
  names: string[],
  credentials: Credentials,
  secret: (ref: string) => Promise<string>,
): ProbeRoute {
  const nodes = names.map((name) => {
    const node = env.postgres.nodes[resolveNode(env, name)];
    if (!node)
      throw new UserError(`the probe names node "${name}", which environment ${env.name} does not have`);
    return { name, host: node.host, port: node.port };
  });
  return {
    description: `nodes ${nodes.map((n) => `${n.host}:${n.port}`).join(',')} (read-write)`,
    connect: async (timeoutMs) => {
      let last: unknown = new Error('no node given');
      for (const n of nodes) {
        try {
          const client = await withTimeout(timeoutMs, `connect to ${n.host}:${n.port}`, async () => {
            const c = await connectPostgres(
              { host: n.host, port: n.port, ...credentials },
              { secret, connectTimeoutMs: timeoutMs, applicationName: 'drillbook-probe' },
            );
            const { rows } = await c.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
            if (!rows[0]?.r) return c;
            await c.end().catch(() => undefined);
            throw new Error(`${n.host}:${n.port} is in recovery (read-only)`);
          });
          return client;
        } catch (err) {
          last = err;
        }
      }
      throw last;
    },
  };
}
