// validate on the lab: through the router, the DNS name and directly, a write read back; refused
// when the route reaches a replica or another server. The shared lab's router slot is restored.
import assert from 'node:assert/strict';
// The registry first (see route.test.ts: an import cycle through runbook/targets.ts).
import '../../src/actions/registry.js';
import { after, before, describe, test } from 'node:test';
import { validate } from '../../src/actions/validate.js';
import { HaproxyRuntime, type ServerState } from '../../src/connectors/haproxy.js';
import { withNode } from '../../src/connectors/postgres.js';
import { resolveSecretRef } from '../../src/connectors/secrets.js';
import { StepFailure } from '../../src/errors.js';
import { requireLab, testLab } from '../helpers/lab.js';
import { actionContext, failureOf } from './context.js';

describe('validate', () => {
  const router = testLab()?.environment.routers?.main;
  let original: ServerState | undefined;
  before(async () => {
    if (router) original = await new HaproxyRuntime(router.socket).serverState(router.backend, router.server);
  });
  after(async () => {
    if (!router || !original) return;
    const api = new HaproxyRuntime(router.socket);
    await api.setServerAddr(original.backend, original.server, original.addr, original.port);
    await api.setServerState(original.backend, original.server, original.admin);
  });

  test('via the router: the primary takes a write that reads back, tagged with the run', async (t) => {
    const l = requireLab(t);
    if (!l) return;
    const env = l.environment;
    const ctx = actionContext(env);
    const out = await validate.run!(ctx, { target: 'pg1', via: 'router', router: 'main', write: true });
    const pg1 = env.postgres.nodes.pg1!;
    assert.deepEqual(out.server, { node: 'pg1', addr: pg1.host, port: pg1.port });
    assert.equal(typeof out.writeMs, 'number');
    t.diagnostic(`write + read back through the router: ${String(out.writeMs)} ms`);
    const rows = await withNode(
      env,
      'pg1',
      { secret: resolveSecretRef },
      async (c) =>
        (await c.query('SELECT step_id FROM drillbook_validation WHERE run_id = $1', [ctx.runId])).rows,
    );
    assert.deepEqual(rows, [{ step_id: 'step' }]);
  });

  test('via the DNS name, asking the zone’s nameserver', async (t) => {
    const l = requireLab(t);
    if (!l) return;
    const out = await validate.run!(actionContext(l.environment), {
      target: 'primary',
      via: 'dns',
      record: 'db',
    });
    assert.match(String(out.route), /^dns db\.lab\.drillbook\.test\. \(127\.0\.0\.\d+:\d+\)$/);
    assert.equal((out.server as { node: string }).node, 'pg1');
  });

  test('directly, with the replicas streaming from the primary', async (t) => {
    const l = requireLab(t);
    if (!l) return;
    const out = await validate.run!(actionContext(l.environment), {
      target: 'pg1',
      via: 'direct',
      write: false,
      replicas: ['pg2', 'pg3'],
    });
    assert.deepEqual(out.replicasStreaming, ['pg2', 'pg3']);
    assert.equal(out.writeMs, undefined);
  });

  test('a replica that is not streaming is named', async (t) => {
    const l = requireLab(t);
    if (!l) return;
    const err = await failureOf(
      validate.run!(actionContext(l.environment), {
        target: 'pg1',
        via: 'direct',
        write: false,
        replicas: ['pg1'],
      }),
    );
    assert.ok(err instanceof StepFailure);
    assert.match(err.message, /pg1 not streaming from pg1 \(pg_stat_replication: .*streaming/);
  });

  test('refuses when the route reaches a replica, and when it reaches another server than the target', async (t) => {
    const l = requireLab(t);
    if (!l) return;
    const env = l.environment;
    const pg2 = env.postgres.nodes.pg2!;
    const api = new HaproxyRuntime(router!.socket);
    await api.setServerAddr('pg', 'primary', pg2.host, pg2.port);
    const err = await failureOf(
      validate.run!(actionContext(env), { target: 'pg2', via: 'router', router: 'main' }),
    );
    assert.ok(err instanceof StepFailure);
    assert.match(
      err.message,
      /^validate: router main \(127\.0\.0\.1:\d+\) reaches a replica \(127\.0\.0\.\d+:\d+\), not a primary$/,
    );
    assert.equal(err.retryable, true);

    // pg1 is a primary, but the step expects pg3 there.
    await api.setServerAddr('pg', 'primary', original!.addr, original!.port);
    const wrong = await failureOf(
      validate.run!(actionContext(env), { target: 'pg3', via: 'router', router: 'main' }),
    );
    assert.match(String((wrong as Error).message), /reaches the primary at .*, expected pg3/);
  });
});
