// route: point the router (HAProxy runtime API) at another server.
import { Type } from '@sinclair/typebox';
import { formatDuration, parseDuration } from '../duration.js';
import { StepFailure, UserError } from '../errors.js';
import { HaproxyRuntime, inventoryRouter, type ServerState } from '../connectors/haproxy.js';
import { nodeEndpoint } from '../connectors/postgres.js';
import { pollUntil } from '../connectors/poll.js';
import { portAnswers } from '../system/ports.js';
import { resolveNode } from '../schema/inventory.js';
import { Duration, Strict, Target, OneOf } from '../schema/common.js';
import { defineAction, type EnvContext } from './types.js';
import { Ms } from './contract.js';

const DEFAULT_HEALTH_TIMEOUT_MS = 10_000;

export const route = defineAction({
  kind: 'route',
  summary: 'switch an HAProxy server slot to a node, or enable/disable/drain it',
  idempotent: true,
  schema: Strict({
    router: Target('router'),
    backend: Type.Optional(Type.String({ description: 'defaults to the router’s backend' })),
    server: Type.Optional(Type.String({ description: 'defaults to the router’s write server slot' })),
    to: Type.Optional(Target('node', 'node the slot should point at')),
    action: Type.Optional(
      OneOf(['set', 'enable', 'disable', 'drain'], {
        default: 'set',
      }),
    ),
    healthTimeout: Type.Optional(
      Duration('how long set/enable wait for HAProxy’s health check to mark the server UP (default 10s)'),
    ),
  }),
  outputs: Strict({
    router: Type.String(),
    backend: Type.String(),
    server: Type.String(),
    action: OneOf(['set', 'enable', 'disable', 'drain']),
    changed: Type.Boolean(),
    previous: Strict({
      node: Type.Optional(Type.String()),
      addr: Type.String(),
      port: Type.Integer(),
      state: Type.String(),
    }),
    routedTo: Strict({ node: Type.Optional(Type.String()), addr: Type.String(), port: Type.Integer() }),
    state: Type.String({ description: 'admin state: ready, drain or maint' }),
    operational: Type.String({ description: 'health as HAProxy sees it' }),
    switchMs: Ms(),
  }),
  example: { id: 'move-writers', with: { router: 'writer', to: '${{ steps.promote.outputs.node }}' } },
  async run(ctx, input) {
    const router = inventoryRouter(ctx.env, input.router);
    const backend = input.backend ?? router.backend;
    const server = input.server ?? router.server;
    const slot = `${backend}/${server}`;
    const action = input.action ?? 'set';
    const target = action === 'set' ? targetOf(ctx.env, input.to) : undefined;
    const api = new HaproxyRuntime(router.socket, { signal: ctx.signal });

    const started = performance.now();
    const before = await api.serverState(backend, server);
    let changed = false;
    if (target && (before.addr !== target.host || before.port !== target.port)) {
      await api.setServerAddr(backend, server, target.host, target.port);
      // The new address applies to new connections only; sessions still open to the old node would
      // keep writing there.
      await api.shutdownSessions(backend, server);
      ctx.log(`${slot}: ${before.addr}:${before.port} -> ${target.name} (${target.host}:${target.port})`);
      changed = true;
    }
    const wanted = action === 'disable' ? 'maint' : action === 'drain' ? 'drain' : 'ready';
    if (before.admin !== wanted) {
      if (wanted === 'maint') await api.disableServer(backend, server);
      else await api.setServerState(backend, server, wanted);
      ctx.log(`${slot}: ${before.admin} -> ${wanted}`);
      changed = true;
    }
    // Maintenance alone leaves established sessions running: a disabled (fenced) node must take no writes.
    if (wanted === 'maint') await api.shutdownSessions(backend, server);

    const after = await api.serverState(backend, server);
    const where = target ? ` pointing at ${target.name} (${target.host}:${target.port})` : '';
    if ((target && (after.addr !== target.host || after.port !== target.port)) || after.admin !== wanted) {
      throw new StepFailure(
        `haproxy ${router.socket}: ${slot} should be ${wanted}${where} but shows ${after.admin} at ${after.addr}:${after.port}`,
      );
    }
    const healthTimeoutMs = parseDuration(input.healthTimeout ?? '') ?? DEFAULT_HEALTH_TIMEOUT_MS;
    const up = wanted === 'ready' ? await waitUntilUp(api, after, healthTimeoutMs, ctx.signal) : after;
    if (!up) {
      throw new StepFailure(
        `haproxy ${router.socket}: ${slot}${where} is not UP after ${formatDuration(healthTimeoutMs)} ` +
          `(the node does not accept connections or HAProxy's check fails); previous state ${describe(before)}`,
        { retryable: true },
      );
    }
    return {
      router: input.router,
      backend,
      server,
      action,
      changed,
      previous: { node: nodeAt(ctx.env, before), addr: before.addr, port: before.port, state: before.admin },
      routedTo: { node: nodeAt(ctx.env, up), addr: up.addr, port: up.port },
      state: up.admin,
      operational: up.operational,
      switchMs: Math.round(performance.now() - started),
    };
  },
  async dryRun(ctx, input) {
    const router = ctx.env.routers?.[input.router];
    const slot = `${input.backend ?? router?.backend}/${input.server ?? router?.server}`;
    const action = input.action ?? 'set';
    return action === 'set'
      ? `would point ${input.router} ${slot} at ${input.to ? resolveNode(ctx.env, input.to) : '(no node given)'} and wait until it is UP`
      : `would ${action} ${input.router} ${slot}`;
  },
});

function targetOf(env: EnvContext, to: string | undefined) {
  if (!to) throw new UserError('route: action "set" needs "to", the node the slot should point at');
  return { name: resolveNode(env, to), ...nodeEndpoint(env, to) };
}

/**
 * UP in HAProxy and accepting connections from here. HAProxy keeps a server UP across an address
 * change until its checks fail, so UP alone would not prove that the new address answers.
 */
function waitUntilUp(
  api: HaproxyRuntime,
  state: ServerState,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<ServerState | undefined> {
  return pollUntil(
    async () => {
      const now = await api.serverState(state.backend, state.server);
      return now.operational === 'up' && (await portAnswers(now.addr, now.port)) ? now : undefined;
    },
    { timeoutMs, intervalMs: 50, signal },
  );
}

const describe = (s: ServerState) => `${s.addr}:${s.port} ${s.admin}`;

/** The inventory node at a server's address, so a rollback step can name it (`to: previous.node`). */
function nodeAt(env: EnvContext, s: ServerState): string | undefined {
  return Object.entries(env.postgres.nodes).find(([, n]) => n.host === s.addr && n.port === s.port)?.[0];
}
