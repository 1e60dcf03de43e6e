// select-replica against the shared test lab: one replica is made to lag (replay paused while the
// primary writes) and is always resumed, so the lab is left as it was.
import assert from 'node:assert/strict';
import { test } from 'node:test';
// Through the registry: importing an action file first would enter the registry's import cycle mid-way.
import { actions } from '../../src/actions/registry.js';
import { withNode } from '../../src/connectors/postgres.js';
import type { Candidate } from '../../src/actions/select-replica.js';
import { StepFailure } from '../../src/errors.js';
import { actionContext, runAction } from '../helpers/action-context.js';
import { requireLab } from '../helpers/lab.js';

const selectReplica = actions.get('select-replica')!;

test('select-replica picks the most advanced replica and refuses one beyond maxLagBytes', async (t) => {
  const lab = requireLab(t);
  if (!lab) return;
  const env = lab.environment;
  const ctx = actionContext(env);
  const sql = (node: string, text: string) => withNode(env, node, ctx, (c) => c.query(text));

  await sql('pg2', 'SELECT pg_wal_replay_pause()');
  t.after(() => sql('pg2', 'SELECT pg_wal_replay_resume()'));
  await sql('primary', 'CREATE TABLE IF NOT EXISTS select_replica_test (n int, pad text)');
  t.after(() => sql('primary', 'DROP TABLE IF EXISTS select_replica_test'));
  await sql(
    'primary',
    "INSERT INTO select_replica_test SELECT g, repeat('x', 200) FROM generate_series(1, 5000) g",
  );
  // pg3 replays it; pg2 receives it but does not replay.
  const target = (await sql('primary', 'SELECT pg_current_wal_lsn()::text AS l')).rows[0].l as string;
  for (let i = 0; i < 200; i++) {
    const { rows } = await sql('pg3', `SELECT pg_last_wal_replay_lsn() >= '${target}'::pg_lsn AS ok`);
    if (rows[0].ok) break;
    await new Promise((r) => setTimeout(r, 25));
  }

  const picked = await runAction(selectReplica, env, { candidates: ['pg2', 'pg3'], maxLagBytes: 1000 });
  assert.equal(picked.node, 'pg3');
  const byNode = Object.fromEntries((picked.candidates as Candidate[]).map((c) => [c.node, c]));
  assert.ok(byNode.pg2!.lagBytes! > 100_000, `pg2 should lag: ${JSON.stringify(byNode.pg2)}`);
  assert.ok(byNode.pg3!.lagBytes! <= 1000);
  assert.equal(typeof picked.primaryLsn, 'string');

  await assert.rejects(
    runAction(selectReplica, env, { candidates: ['pg2'], maxLagBytes: 1000 }),
    (err: StepFailure) => /pg2 is \d+ bytes behind the primary .*maxLagBytes 1000/.test(err.message),
  );
  const accepted = await runAction(selectReplica, env, {
    candidates: ['pg2'],
    maxLagBytes: 1000,
    allowLag: true,
  });
  assert.equal(accepted.node, 'pg2');
});

test('select-replica skips unreachable candidates and the primary, and fails when none is left', async (t) => {
  const lab = requireLab(t);
  if (!lab) return;
  const pg3 = lab.environment.postgres.nodes.pg3!;
  const env = {
    ...lab.environment,
    postgres: {
      ...lab.environment.postgres,
      nodes: { ...lab.environment.postgres.nodes, gone: { ...pg3, port: 1 } },
    },
  };
  const picked = await runAction(selectReplica, env, { candidates: ['gone', 'pg1', 'pg3'] });
  assert.equal(picked.node, 'pg3');
  const skipped = (picked.candidates as Candidate[])
    .filter((c) => c.skipped)
    .map((c) => `${c.node}: ${c.skipped}`);
  assert.equal(skipped.length, 2);
  assert.match(skipped[0]!, /^gone: unreachable: .*refused/i);
  assert.match(skipped[1]!, /^pg1: not a replica/);
  await assert.rejects(
    runAction(selectReplica, env, { candidates: ['gone'] }),
    (err: StepFailure) => err.retryable && /no usable replica/.test(err.message),
  );
});
