// route against the lab's HAProxy: set, disable, enable, drain, verified with `show servers state`
// and a real connection through the router. The shared lab's slot is restored after the suite.
import assert from 'node:assert/strict';
// The registry first: runbook/targets.ts imports it, and an action loaded before it would be read
// by the registry before its own module finished (an import cycle the CLI never hits).
import '../../src/actions/registry.js';
import { after, before, describe, test } from 'node:test';
import { route } from '../../src/actions/route.js';
import { HaproxyRuntime, type ServerState } from '../../src/connectors/haproxy.js';
import { connectPostgres } from '../../src/connectors/postgres.js';
import { resolveSecretRef } from '../../src/connectors/secrets.js';
import { StepFailure } from '../../src/errors.js';
import type { Environment } from '../../src/schema/inventory.js';
import { requireLab, testLab } from '../helpers/lab.js';
import { actionContext, failureOf } from './context.js';

const lab = testLab();
const router = lab?.environment.routers?.main;

/** Puts the slot back exactly as it was (address, port, admin state). */
async function restore(api: HaproxyRuntime, s: ServerState) {
  await api.setServerAddr(s.backend, s.server, s.addr, s.port);
  await api.setServerState(s.backend, s.server, s.admin);
}

/** The address of the server a client reaches through the router. */
async function serverBehindRouter(env: Environment): Promise<string> {
  const listen = env.routers!.main!.listen;
  const client = await connectPostgres(
    { ...listen, database: env.postgres.database, user: env.postgres.user, password: env.postgres.password },
    { secret: resolveSecretRef },
  );
  try {
    const { rows } = await client.query<{ addr: string }>('SELECT host(inet_server_addr()) AS addr');
    return rows[0]!.addr;
  } finally {
    await client.end();
  }
}

describe('route', () => {
  let original: ServerState | undefined;
  before(async () => {
    if (router) original = await new HaproxyRuntime(router.socket).serverState(router.backend, router.server);
  });
  after(async () => {
    if (router && original) await restore(new HaproxyRuntime(router.socket), original);
  });

  test('set points the write slot at another node, waits until UP, and reports the previous state', async (t) => {
    const l = requireLab(t);
    if (!l) return;
    const env = l.environment;
    const [pg1, pg2] = [env.postgres.nodes.pg1!, env.postgres.nodes.pg2!];
    const ctx = actionContext(env);

    const out = await route.run!(ctx, { router: 'main', to: 'pg2' });
    assert.deepEqual(out.previous, { node: 'pg1', addr: pg1.host, port: pg1.port, state: 'ready' });
    assert.deepEqual(out.routedTo, { node: 'pg2', addr: pg2.host, port: pg2.port });
    assert.equal(out.operational, 'up');
    assert.equal(out.changed, true);
    t.diagnostic(`route switch pg1 -> pg2 until UP: ${String(out.switchMs)} ms`);
    const shown = await new HaproxyRuntime(router!.socket).serverState('pg', 'primary');
    assert.equal(shown.addr, pg2.host);
    assert.equal(
      await serverBehindRouter(env),
      pg2.host,
      'a client connecting right after the step reaches pg2',
    );

    const again = await route.run!(ctx, { router: 'main', to: 'pg2' });
    assert.equal(again.changed, false, 'idempotent: a second run changes nothing');

    const back = await route.run!(ctx, {
      router: 'main',
      to: String((out.previous as { node: string }).node),
    });
    assert.deepEqual(back.routedTo, { node: 'pg1', addr: pg1.host, port: pg1.port });
    assert.equal(await serverBehindRouter(env), pg1.host);
  });

  test('disable, drain and enable change the admin state and report the previous one', async (t) => {
    const l = requireLab(t);
    if (!l) return;
    const ctx = actionContext(l.environment);
    const disabled = await route.run!(ctx, { router: 'main', action: 'disable' });
    assert.equal(disabled.state, 'maint');
    assert.equal((disabled.previous as { state: string }).state, 'ready');
    const drained = await route.run!(ctx, { router: 'main', action: 'drain' });
    assert.equal(drained.state, 'drain');
    assert.equal((drained.previous as { state: string }).state, 'maint');
    const enabled = await route.run!(ctx, { router: 'main', action: 'enable' });
    assert.equal(enabled.state, 'ready');
    assert.equal(enabled.operational, 'up');
  });

  test('a node that does not answer is a retryable failure naming the slot and the previous state', async (t) => {
    const l = requireLab(t);
    if (!l) return;
    // A node in the inventory at an address where nothing listens.
    const env: Environment = structuredClone(l.environment);
    env.postgres.nodes.ghost = { host: '127.0.0.254', port: 5432 };
    const err = await failureOf(
      route.run!(actionContext(env), {
        router: 'main',
        to: 'ghost',
        healthTimeout: '1500ms',
      }),
    );
    assert.ok(err instanceof StepFailure);
    assert.match(err.message, /pg\/primary pointing at ghost \(127\.0\.0\.254:5432\) is not UP after 1\.50s/);
    assert.match(err.message, /previous state 127\.0\.0\.\d+:\d+ ready/);
    assert.equal(err.retryable, true);
    // From a DOWN slot, back to a live node: HAProxy's next check (downinter 100ms) marks it UP.
    const back = await route.run!(actionContext(env), { router: 'main', to: 'pg1' });
    assert.equal(back.operational, 'up');
    t.diagnostic(`route switch from a DOWN slot to pg1 until UP: ${String(back.switchMs)} ms`);
  });

  test('an unreachable HAProxy socket is a step failure naming the socket', async (t) => {
    const l = requireLab(t);
    if (!l) return;
    const env: Environment = structuredClone(l.environment);
    env.routers!.main!.socket = '/nonexistent/haproxy.sock';
    await assert.rejects(
      route.run!(actionContext(env), { router: 'main', to: 'pg2' }),
      (e: unknown) =>
        e instanceof StepFailure && /haproxy \/nonexistent\/haproxy\.sock: .*ENOENT/.test(e.message),
    );
  });

  test('an unknown server slot is a failure naming backend and server', async (t) => {
    const l = requireLab(t);
    if (!l) return;
    await assert.rejects(
      route.run!(actionContext(l.environment), { router: 'main', server: 'nope', action: 'enable' }),
      /no server pg\/nope/,
    );
  });

  test('dry run names the slot and the node without connecting', async () => {
    const env = lab?.environment ?? ({ routers: {}, postgres: { nodes: {} } } as unknown as Environment);
    const text = await route.dryRun!(actionContext(env), { router: 'main', to: 'pg2' });
    assert.match(text, /would point main .* at pg2/);
  });
});
