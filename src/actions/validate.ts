// validate: through the route clients use, the new primary takes and returns a write.
import { Type } from '@sinclair/typebox';
import type { Client } from 'pg';
import { StepFailure, UserError } from '../errors.js';
import { inventoryRouter } from '../connectors/haproxy.js';
import { inventoryRecord } from '../connectors/dns/inventory.js';
import { describeNameserver, queryNameserver } from '../connectors/dns/resolve.js';
import {
  connectPostgres,
  nodeEndpoint,
  pgFailure,
  withNode,
  type PgEndpoint,
} from '../connectors/postgres.js';
import { resolveNode } from '../schema/inventory.js';
import { Strict, Target, Targets, OneOf } from '../schema/common.js';
import { defineAction, type ActionContext } from './types.js';
import { Ms } from './contract.js';

type Via = 'router' | 'dns' | 'direct';

export const validate = defineAction({
  kind: 'validate',
  summary: 'connect through the router or DNS name, check the primary role, write and read back',
  idempotent: true,
  schema: Strict({
    target: Target('node', 'the node that should now be primary'),
    via: Type.Optional(OneOf(['router', 'dns', 'direct'], { default: 'router' })),
    router: Type.Optional(Target('router')),
    record: Type.Optional(Target('record')),
    write: Type.Optional(
      Type.Boolean({ default: true, description: 'write and read back a validation row' }),
    ),
    replicas: Type.Optional(Targets('node', 'replicas that must stream from the new primary')),
  }),
  outputs: Strict({
    via: OneOf(['router', 'dns', 'direct']),
    route: Type.String({ description: 'the way a client went, e.g. router writer (127.0.0.1:6432)' }),
    server: Strict({ node: Type.String(), addr: Type.String(), port: Type.Integer() }),
    writeMs: Type.Optional(Ms('write and read back of the validation row')),
    replicasStreaming: Type.Optional(Type.Array(Type.String())),
  }),
  example: {
    id: 'check-writes',
    with: { target: '${{ steps.promote.outputs.node }}', via: 'router', router: 'writer' },
  },
  async run(ctx, input) {
    const via = input.via ?? 'router';
    const target = resolveNode(ctx.env, input.target);
    const expected = nodeEndpoint(ctx.env, target);
    const { endpoint, route } = await clientRoute(ctx, via, input, expected);
    const client = await connectPostgres(endpoint, {
      signal: ctx.signal,
      secret: ctx.secret,
      applicationName: 'drillbook-validate',
    });
    let server: { addr: string; port: number };
    let writeMs: number | undefined;
    try {
      server = await checkServer(client, route, target, expected);
      if (input.write ?? true) writeMs = await writeAndReadBack(client, ctx.runId, ctx.stepId);
    } catch (err) {
      throw pgFailure(err, `validate ${route}`);
    } finally {
      await client.end().catch(() => undefined);
    }
    ctx.log(
      `${route} reaches ${target} (${server.addr}:${server.port}), primary${writeMs === undefined ? '' : `, write read back in ${writeMs} ms`}`,
    );
    const replicas = input.replicas
      ? await streamingReplicas(ctx, target, input.replicas as string[])
      : undefined;
    return { via, route, server: { node: target, ...server }, writeMs, replicasStreaming: replicas };
  },
  async dryRun(ctx, input) {
    const checks = [
      (input.write ?? true) ? 'write and read back a row' : undefined,
      input.replicas ? 'check the replicas stream' : undefined,
    ];
    return `would connect via ${input.via ?? 'router'}, expect ${resolveNode(ctx.env, input.target)} as primary${checks
      .filter(Boolean)
      .map((c) => `, ${c}`)
      .join('')}`;
  },
});

/** Where a client connects for this route, and how messages name it. */
async function clientRoute(
  ctx: ActionContext,
  via: Via,
  input: { router?: string; record?: string },
  node: PgEndpoint,
): Promise<{ endpoint: PgEndpoint; route: string }> {
  if (via === 'direct') return { endpoint: node, route: `direct ${node.host}:${node.port}` };
  if (via === 'router') {
    const name = input.router ?? only(Object.keys(ctx.env.routers ?? {}), 'router');
    const { listen } = inventoryRouter(ctx.env, name);
    return {
      endpoint: { ...node, host: listen.host, port: listen.port },
      route: `router ${name} (${listen.host}:${listen.port})`,
    };
  }
  const name = input.record ?? only(Object.keys(ctx.env.dns?.records ?? {}), 'record');
  const { record, zone } = inventoryRecord(ctx.env, name);
  // The zone's own nameservers, as a resolver whose cache expired would: the system resolver may cache.
  const ns = zone.nameservers[0]!;
  const [address] = await queryNameserver(ns, record.name, record.type, ctx.signal);
  if (!address)
    throw new StepFailure(
      `validate: ${record.name} has no ${record.type} record at ${describeNameserver(ns)}`,
      { retryable: true },
    );
  return { endpoint: { ...node, host: address }, route: `dns ${record.name} (${address}:${node.port})` };
}

/** The one router or record of an environment, when the step names none. */
function only(names: string[], kind: string): string {
  if (names.length === 1) return names[0]!;
  throw new UserError(
    `validate: name the ${kind} (the environment has ${names.length ? names.join(', ') : 'none'})`,
  );
}

/** The server reached is a primary, and it is the target node (not another primary: split brain). */
async function checkServer(client: Client, route: string, target: string, expected: PgEndpoint) {
  const { rows } = await client.query<{ recovery: boolean; addr: string | null; port: number | null }>(
    'SELECT pg_is_in_recovery() AS recovery, host(inet_server_addr()) AS addr, inet_server_port() AS port',
  );
  const row = rows[0]!;
  const server = { addr: row.addr ?? '(unix socket)', port: row.port ?? 0 };
  const at = `${server.addr}:${server.port}`;
  // Retryable: right after a switch the route may still settle.
  if (row.recovery)
    throw new StepFailure(`validate: ${route} reaches a replica (${at}), not a primary`, { retryable: true });
  if (server.addr !== expected.host || server.port !== expected.port) {
    throw new StepFailure(
      `validate: ${route} reaches the primary at ${at}, expected ${target} (${expected.host}:${expected.port})`,
      { retryable: true },
    );
  }
  return server;
}

/** Writes a row tagged with the run and reads it back; the time both took, in ms. */
async function writeAndReadBack(client: Client, runId: string, stepId: string): Promise<number> {
  await client.query(
    `CREATE TABLE IF NOT EXISTS drillbook_validation (
       id bigserial PRIMARY KEY, run_id text NOT NULL, step_id text NOT NULL, written_at timestamptz NOT NULL DEFAULT now())`,
  );
  const started = performance.now();
  const inserted = await client.query<{ id: string }>(
    'INSERT INTO drillbook_validation (run_id, step_id) VALUES ($1, $2) RETURNING id',
    [runId, stepId],
  );
  const id = inserted.rows[0]!.id;
  const read = await client.query<{ run_id: string }>(
    'SELECT run_id FROM drillbook_validation WHERE id = $1',
    [id],
  );
  if (read.rows[0]?.run_id !== runId) throw new StepFailure(`validate: row ${id} written but not read back`);
  return Math.round(performance.now() - started);
}

/** The named replicas that pg_stat_replication on the new primary shows streaming. */
async function streamingReplicas(ctx: ActionContext, primary: string, replicas: string[]): Promise<string[]> {
  const names = replicas.map((r) => resolveNode(ctx.env, r));
  const rows = await withNode(
    ctx.env,
    primary,
    { signal: ctx.signal, secret: ctx.secret },
    async (client) =>
      (
        await client.query<{ name: string; addr: string | null; state: string }>(
          'SELECT application_name AS name, host(client_addr) AS addr, state FROM pg_stat_replication',
        )
      ).rows,
  );
  const streaming = (name: string) => {
    const host = ctx.env.postgres.nodes[name]?.host;
    return rows.some((r) => r.state === 'streaming' && (r.name === name || (host && r.addr === host)));
  };
  const missing = names.filter((n) => !streaming(n));
  if (missing.length) {
    const seen = rows.map((r) => `${r.name || r.addr} ${r.state}`).join(', ') || 'no replication connections';
    throw new StepFailure(
      `validate: ${missing.join(', ')} not streaming from ${primary} (pg_stat_replication: ${seen})`,
      { retryable: true },
    );
  }
  return names;
}
