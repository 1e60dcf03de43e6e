// verify against the shared test lab: read-only checks, from here and from the nodes over SSH.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
// Through the registry: importing an action file first would enter the registry's import cycle mid-way.
import { actions } from '../../src/actions/registry.js';
import { StepFailure } from '../../src/errors.js';
import type { Environment } from '../../src/schema/inventory.js';
import { explainErrors } from '../../src/runbook/schema-errors.js';
import { validatorFor } from '../../src/runbook/validators.js';
import { runAction } from '../helpers/action-context.js';
import { requireLab } from '../helpers/lab.js';

const verify = actions.get('verify')!;

type Answer = { from: string; ok: boolean; observed: string; error?: string; ms: number };

/** A copy of the environment with a node nobody listens for (port 1 refuses at once). */
function withDeadNode(env: Environment): Environment {
  const pg1 = env.postgres.nodes.pg1!;
  return {
    ...env,
    postgres: { ...env.postgres, nodes: { ...env.postgres.nodes, dead: { ...pg1, port: 1 } } },
  };
}

test('verify postgres: role from here and over SSH, up, and expectations that fail', async (t) => {
  const lab = requireLab(t);
  if (!lab) return;
  const env = lab.environment;
  const from = ['local', 'ssh:pg2', 'ssh:pg3'];
  const primary = await runAction(verify, env, {
    check: 'postgres',
    target: 'primary',
    expect: 'primary',
    from,
  });
  assert.equal(primary.agreed, 3);
  assert.deepEqual(
    (primary.answers as Answer[]).map((a) => [a.from, a.observed]),
    from.map((f) => [f, 'primary']),
  );
  const replica = await runAction(verify, env, {
    check: 'postgres',
    target: 'pg2',
    expect: 'replica',
    from: ['local', 'ssh:pg1'],
  });
  assert.equal(replica.observed, 'replica');
  await runAction(verify, env, { check: 'postgres', target: 'pg3' }); // expect: up by default
  await assert.rejects(
    runAction(verify, env, { check: 'postgres', target: 'pg2', expect: 'primary' }),
    (err: StepFailure) =>
      err.retryable && /expected primary, 0 of 1 vantage points agree.*local: replica/.test(err.message),
  );
});

test('verify down: refused from every vantage point, quickly; quorum counts the agreeing ones', async (t) => {
  const lab = requireLab(t);
  if (!lab) return;
  const env = withDeadNode(lab.environment);
  const started = performance.now();
  const down = await runAction(verify, env, {
    check: 'postgres',
    target: 'dead',
    expect: 'down',
    from: ['local', 'ssh:pg2', 'ssh:pg3'],
    connectTimeout: '1s',
  });
  const ms = performance.now() - started;
  t.diagnostic(`detection (down from 3 vantage points, refused): ${Math.round(ms)} ms`);
  assert.equal(down.agreed, 3);
  assert.ok(ms < 5000, `detection took ${ms} ms`);

  // A vantage point that cannot be reached (its sshd port refuses) does not agree with anything.
  const ghost = { ...env.ssh!.pg2!, port: 1 };
  const partial = { ...env, ssh: { ...env.ssh, ghost } };
  const two = await runAction(verify, partial, {
    check: 'postgres',
    target: 'dead',
    expect: 'down',
    from: ['local', 'ssh:pg2', 'ssh:ghost'],
    quorum: 2,
  });
  assert.equal(two.agreed, 2);
  const ghostAnswer = (two.answers as Answer[]).find((a) => a.from === 'ssh:ghost')!;
  assert.equal(ghostAnswer.observed, 'error');
  assert.match(ghostAnswer.error ?? '', /\]:1/);
  await assert.rejects(
    runAction(verify, partial, {
      check: 'postgres',
      target: 'dead',
      expect: 'down',
      from: ['local', 'ssh:pg2', 'ssh:ghost'],
    }),
    /2 of 3 vantage points agree \(quorum 3\)/,
  );
});

test('verify tcp, sql and http from here and over SSH', async (t) => {
  const lab = requireLab(t);
  if (!lab) return;
  const env = lab.environment;
  const pg1 = env.postgres.nodes.pg1!;
  await runAction(verify, env, { check: 'tcp', host: pg1.host, port: pg1.port, from: ['local', 'ssh:pg2'] });
  await runAction(verify, env, {
    check: 'tcp',
    host: pg1.host,
    port: 1,
    expect: 'down',
    from: ['local', 'ssh:pg2'],
  });
  const sql = await runAction(verify, env, {
    check: 'sql',
    target: 'pg2',
    query: 'SELECT pg_is_in_recovery(), 42',
    equals: true,
    from: ['local', 'ssh:pg3'],
  });
  assert.equal(sql.agreed, 2);
  await assert.rejects(
    runAction(verify, env, { check: 'sql', target: 'pg1', query: 'SELECT 41', equals: 42 }),
    /expected = 42.*local: 41/,
  );

  const server = createServer((req, res) => {
    res.statusCode = req.url === '/health' ? 200 : 503;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await runAction(verify, env, { check: 'http', url: `${url}/health`, from: ['local', 'ssh:pg2'] });
  await runAction(verify, env, { check: 'http', url: `${url}/other`, status: 503 });
  await assert.rejects(
    runAction(verify, env, { check: 'http', url: `${url}/other` }),
    /expected HTTP 200.*local: 503/,
  );
});

/** What the `with:` schema says about an input, as `validate` phrases it. */
function schemaErrors(input: Record<string, unknown>): string {
  const validate = validatorFor('with-verify');
  return validate(input)
    ? ''
    : explainErrors(validate.errors!, input)
        .map((e) => e.message)
        .join('; ');
}

test('verify with: is discriminated by check: each check needs its own fields, found before anything runs', () => {
  assert.equal(schemaErrors({ check: 'sql', target: 'pg1' }), 'missing required key "query"');
  assert.match(
    schemaErrors({ check: 'tcp', host: 'x', port: 1, expect: 'primary' }),
    /must be one of "up", "down"/,
  );
  assert.match(schemaErrors({ check: 'backup-age' }), /missing required key "maxAge"/);
  assert.match(schemaErrors({ check: 'http', url: 'http://127.0.0.1/', query: 'x' }), /unknown key "query"/);
  assert.equal(schemaErrors({ check: 'sql', target: 'pg1', query: 'SELECT 1', equals: 1 }), '');
});

test('verify bad input: quorum above the vantage points', async (t) => {
  const lab = requireLab(t);
  if (!lab) return;
  const env = lab.environment;
  await assert.rejects(
    runAction(verify, env, { check: 'postgres', target: 'pg1', quorum: 2 }),
    /quorum 2 is more than the 1/,
  );
});
