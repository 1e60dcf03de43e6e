// fence, promote and rejoin on a private lab (slot 3): they change the topology, so never on the
// shared test lab. One lab for the file; the tests run in order and hand the cluster on:
// pg1 primary -> fence pg1, promote pg2 (sql), rejoin pg1 and pg3 -> switch back to pg1 (pg_ctl).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
// Through the registry: importing an action file first would enter the registry's import cycle mid-way.
import { actions } from '../../src/actions/registry.js';
import type { ActionDefinition } from '../../src/actions/types.js';
import { connectNode, withNode } from '../../src/connectors/postgres.js';
import { pollUntil } from '../../src/connectors/poll.js';
import { resolveSecretRef } from '../../src/connectors/secrets.js';
import { StepFailure, UserError } from '../../src/errors.js';
import type { Environment } from '../../src/schema/inventory.js';
import { actionContext, runAction } from '../helpers/action-context.js';
import { privateLab } from '../helpers/private-lab.js';

const action = (kind: string) => actions.get(kind)!;
const [verify, fence, promote, rejoin, selectReplica] = [
  'verify',
  'fence',
  'promote',
  'rejoin',
  'select-replica',
].map(action) as [ActionDefinition, ActionDefinition, ActionDefinition, ActionDefinition, ActionDefinition];

const pgOptions = { secret: resolveSecretRef };

/** What the node's WAL receiver says: "<status> from <sender port>", or "none". */
async function receiverOf(env: Environment, node: string): Promise<string> {
  return withNode(env, node, pgOptions, async (c) => {
    const { rows } = await c.query<{ status: string; port: number }>(
      'SELECT status, sender_port AS port FROM pg_stat_wal_receiver',
    );
    return rows[0] ? `${rows[0].status} from ${rows[0].port}` : 'none';
  });
}

describe('failover actions on a private lab', () => {
  const lab = privateLab(3);

  test('fence stop: the old primary takes no writes (split-brain guard), verify sees it down', async (t) => {
    const l = lab(t);
    if (!l) return;
    const env = l.environment;
    const ctx = actionContext(env);
    await withNode(env, 'pg1', ctx, (c) => c.query('CREATE TABLE fenced_writes (n int)'));
    const fenced = await runAction(fence, env, { target: 'primary', method: 'stop' });
    assert.equal(fenced.verified, true);
    assert.equal(fenced.action, 'stopped (immediate)');
    await assert.rejects(
      connectNode(env, 'pg1', { ...ctx, connectTimeoutMs: 1000 }).then((c) =>
        c.query('INSERT INTO fenced_writes VALUES (1)'),
      ),
      /refused/i,
    );
    // Fencing again is a no-op that still verifies.
    assert.equal((await runAction(fence, env, { target: 'pg1', method: 'stop' })).action, 'already stopped');

    const started = performance.now();
    const down = await runAction(verify, env, {
      check: 'postgres',
      target: 'primary',
      expect: 'down',
      from: ['local', 'ssh:pg2', 'ssh:pg3'],
      quorum: 2,
      connectTimeout: '1s',
    });
    t.diagnostic(`verify down from 3 vantage points: ${Math.round(performance.now() - started)} ms`);
    assert.ok((down.agreed as number) >= 2);
  });

  test('fence router disables the slots that lead to the node; iptables needs root', async (t) => {
    const l = lab(t);
    if (!l) return;
    const env = l.environment;
    const routed = await runAction(fence, env, { target: 'pg1', method: 'router', router: 'main' });
    assert.deepEqual(routed.slots, ['pg/primary']);
    await assert.rejects(runAction(fence, env, { target: 'pg1', method: 'iptables' }), (err: UserError) =>
      /needs root: SSH user \S+ on pg1/.test(err.message),
    );
  });

  test('select-replica and promote (sql) pg2; promoting again reports it', async (t) => {
    const l = lab(t);
    if (!l) return;
    const env = l.environment;
    const picked = await runAction(selectReplica, env, { candidates: ['pg2', 'pg3'] });
    assert.ok(['pg2', 'pg3'].includes(picked.node as string));
    const promoted = await runAction(promote, env, { target: 'pg2', method: 'sql' });
    t.diagnostic(`promote (sql): ${String(promoted.promotionMs)} ms`);
    assert.equal(promoted.alreadyPrimary, false);
    assert.equal(promoted.timeline, 2);
    const again = await runAction(promote, env, { target: 'pg2' });
    assert.equal(again.alreadyPrimary, true);
    assert.deepEqual(await promote.alreadyDone!(actionContext(env), { target: 'pg2' }), again);
    assert.equal(await promote.alreadyDone!(actionContext(env), { target: 'pg3' }), undefined);
  });

  // pg1 was stopped hard right after pg2's promotion: pg_rewind must see pg2's new timeline (rejoin
  // checkpoints pg2 first) and rewind pg1, which its crash recovery left past the switch point.
  test('rejoin pg1 (diverged, stopped hard) and pg3 to pg2: both stream', async (t) => {
    const l = lab(t);
    if (!l) return;
    const env = l.environment;
    await assert.rejects(runAction(rejoin, env, { target: 'pg1', primary: 'pg3' }), (err: StepFailure) =>
      /pg3 is not a primary/.test(err.message),
    );
    const old = await runAction(rejoin, env, {
      target: 'pg1',
      primary: 'pg2',
      onRewindFailure: 'reclone',
      waitStreaming: '15s',
    });
    assert.equal(old.rewound, true);
    assert.equal(old.recloned, false);
    const other = await runAction(rejoin, env, { target: 'pg3', primary: 'pg2' });
    assert.equal(other.recloned, false);
    t.diagnostic(
      `rejoin streaming after: pg1 ${String(old.streamingAfterMs)} ms, pg3 ${String(other.streamingAfterMs)} ms`,
    );
    assert.equal((await runAction(rejoin, env, { target: 'pg3', primary: 'pg2' })).alreadyStreaming, true);
    await runAction(verify, env, { check: 'postgres', target: 'pg1', expect: 'replica' });
  });

  // pg3 cascades from pg1 (as after a failed switchover left it pointing at the old primary), so
  // pg1's promotion switches pg3's timeline mid-stream: rejoin must wait until pg3's own WAL
  // receiver streams again, not take pg1's word for it.
  test('switch back: fence pg2 (fast), promote pg1 with pg_ctl, rejoin pg3 (cascading from pg1) and pg2', async (t) => {
    const l = lab(t);
    if (!l) return;
    const env = l.environment;
    const [pg1, pg2] = [env.postgres.nodes.pg1!, env.postgres.nodes.pg2!];
    await withNode(env, 'pg3', pgOptions, async (c) => {
      const { rows } = await c.query<{ conninfo: string }>(
        `SELECT current_setting('primary_conninfo') AS conninfo`,
      );
      const conninfo = rows[0]!.conninfo.replace(new RegExp(`port='?${pg2.port}'?`), `port=${pg1.port}`);
      assert.notEqual(conninfo, rows[0]!.conninfo);
      await c
        .query(`SELECT format('ALTER SYSTEM SET primary_conninfo = %L', $1::text) AS sql`, [conninfo])
        .then((r) => c.query(r.rows[0].sql as string));
      await c.query(`ALTER SYSTEM RESET primary_slot_name`);
      await c.query('SELECT pg_reload_conf()');
    });
    const cascading = await pollUntil(
      async () => ((await receiverOf(env, 'pg3')) === `streaming from ${pg1.port}` ? true : undefined),
      { timeoutMs: 15_000, intervalMs: 50 },
    );
    assert.ok(cascading, `pg3 does not cascade from pg1: ${await receiverOf(env, 'pg3')}`);
    await runAction(fence, env, { target: 'pg2', method: 'stop', mode: 'fast' });
    const caughtUp = await runAction(selectReplica, env, { candidates: ['pg1'], maxLagBytes: 0 });
    assert.equal(caughtUp.lagBytes, 0);
    const promoted = await runAction(promote, env, { target: 'pg1', method: 'pg_ctl' });
    t.diagnostic(`promote (pg_ctl over SSH): ${String(promoted.promotionMs)} ms`);
    assert.equal(promoted.timeline, 3);
    const follows = await runAction(rejoin, env, {
      target: 'pg3',
      primary: 'pg1',
      onRewindFailure: 'reclone',
    });
    t.diagnostic(`pg3 followed pg1: ${JSON.stringify(follows)}`);
    assert.equal(await receiverOf(env, 'pg3'), `streaming from ${pg1.port}`);
    const back = await runAction(rejoin, env, { target: 'pg2', primary: 'pg1', onRewindFailure: 'reclone' });
    assert.equal(back.alreadyStreaming, false);
    await runAction(verify, env, {
      check: 'postgres',
      target: 'pg1',
      expect: 'primary',
      from: ['local', 'ssh:pg2'],
    });
  });
});
