// Lab shapes for real (private lab slot 9): a cascade streams link by link; each sync mode writes
// its synchronous_standby_names and gives the standbys their sync_state; a failover re-points the
// orphaned replica and keeps the cascade; the failback restores the tree; the cascade-middle-loss
// drill re-points the leaf at the primary with no client outage.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { withNode } from '../../src/connectors/postgres.js';
import { resolveSecretRef } from '../../src/connectors/secrets.js';
import { runDrill } from '../../src/drill/run-drill.js';
import { checkSteadyState } from '../../src/drill/steady-state.js';
import { labStatus } from '../../src/lab/index.js';
import { withPrivateLab, type PrivateLab } from '../helpers/private-lab.js';
import { failures, killPostmaster, runRunbook } from '../helpers/runbook-run.js';

const SLOT = 9;
const stateDir = mkdtempSync(join(tmpdir(), 'drillbook-topology-'));
after(() => rmSync(stateDir, { recursive: true, force: true }));
const quiet = { out: () => undefined, err: () => undefined };

/** `lab status`'s tree: each replica → its upstream, for the links that stream. */
async function streamingTree(
  lab: PrivateLab,
): Promise<{ primaries: string[]; tree: Record<string, string> }> {
  const { tree } = await labStatus(lab.dir);
  assert.ok(tree, 'lab status has no tree');
  const broken = tree.links.filter((l) => l.state !== 'streaming');
  assert.deepEqual(broken, [], 'links not streaming');
  return {
    primaries: tree.primaries,
    tree: Object.fromEntries(tree.links.map((l) => [l.node, l.upstream]).sort()),
  };
}

/** The primary's synchronous_standby_names and each standby's sync_state there. */
async function syncOf(lab: PrivateLab, primary: string) {
  return withNode(lab.env, primary, { secret: resolveSecretRef }, async (c) => {
    const names = (await c.query<{ s: string }>("SELECT current_setting('synchronous_standby_names') AS s"))
      .rows[0]!.s;
    const { rows } = await c.query<{ name: string; sync: string }>(
      'SELECT application_name AS name, sync_state AS sync FROM pg_stat_replication ORDER BY 1',
    );
    return { names, states: Object.fromEntries(rows.map((r) => [r.name, r.sync])) };
  });
}

/** A row written on the primary and committed: with a sync mode, a standby acknowledged it. */
const writeOn = (lab: PrivateLab, node: string) =>
  withNode(lab.env, node, { secret: resolveSecretRef }, (c) =>
    c.query('CREATE TABLE IF NOT EXISTS topo (v int); INSERT INTO topo VALUES (1)'),
  );

describe('lab shapes on a private lab', () => {
  test('--topology cascade --sync-mode first: a chain, each link streaming; FIRST 1 (pg2, pg3)', async () => {
    await withPrivateLab(
      SLOT,
      async (lab) => {
        assert.equal(lab.environment.postgres.nodes.pg2!.upstream, 'pg1');
        assert.equal(lab.environment.postgres.nodes.pg3!.upstream, 'pg2');
        assert.deepEqual(await streamingTree(lab), { primaries: ['pg1'], tree: { pg2: 'pg1', pg3: 'pg2' } });
        // Only the primary's direct standby can be synchronous: pg3 is not even connected to pg1.
        assert.deepEqual(await syncOf(lab, 'pg1'), { names: 'FIRST 1 (pg2, pg3)', states: { pg2: 'sync' } });
        assert.deepEqual((await syncOf(lab, 'pg2')).states, { pg3: 'async' });
        await writeOn(lab, 'pg1');
        assert.deepEqual((await checkSteadyState(lab.env, resolveSecretRef)).problems, []);
      },
      { topology: 'cascade', syncMode: 'first' },
    );
  });

  test('--sync-mode all: FIRST 2 (pg2, pg3), both standbys sync', async () => {
    await withPrivateLab(
      SLOT,
      async (lab) => {
        assert.deepEqual(await syncOf(lab, 'pg1'), {
          names: 'FIRST 2 (pg2, pg3)',
          states: { pg2: 'sync', pg3: 'sync' },
        });
        await writeOn(lab, 'pg1');
      },
      { syncMode: 'all' },
    );
  });

  // pg1 > pg2 > pg3 and pg1 > pg4, quorum over the primary's direct standbys pg2 and pg4.
  test('a tree with quorum: failover re-points the orphan and keeps the cascade, failback restores the tree, cascade-middle-loss passes', async (t) => {
    await withPrivateLab(
      SLOT,
      async (lab) => {
        const built = { pg2: 'pg1', pg3: 'pg2', pg4: 'pg1' };
        assert.deepEqual(await streamingTree(lab), { primaries: ['pg1'], tree: built });
        assert.deepEqual(await syncOf(lab, 'pg1'), {
          names: 'ANY 1 (pg2, pg4, pg3)',
          states: { pg2: 'quorum', pg4: 'quorum' },
        });

        await t.test(
          'failover: the orphaned direct standby follows the new primary, the cascade stays',
          async (ft) => {
            await killPostmaster(lab, 'pg1');
            const run = await runRunbook(lab, 'pg-failover.yaml', { stateDir });
            assert.equal(run.code, 0, failures(run));
            const pick = run.steps.get('pick')!.outputs;
            assert.deepEqual(pick.tree, built, 'select-replica reports the tree it found');
            const promoted = pick.node as string;
            assert.ok(['pg2', 'pg4'].includes(promoted), `promoted ${promoted}, not a direct standby`);
            const follow = run.steps.get('follow')!;
            assert.equal(follow.status, 'succeeded', follow.error);
            const orphan = promoted === 'pg2' ? 'pg4' : 'pg2';
            assert.deepEqual(follow.outputs.repointed, [orphan]);
            assert.deepEqual(follow.outputs.kept, ['pg3']);
            const expected: Record<string, string> = { pg3: 'pg2', [orphan]: promoted };
            assert.deepEqual(await streamingTree(lab), {
              primaries: [promoted],
              tree: Object.fromEntries(Object.entries(expected).sort()),
            });
            await writeOn(lab, promoted);

            await ft.test('failback: the original tree is back, every link streaming', async () => {
              const back = await runRunbook(lab, 'pg-failback.yaml', {
                stateDir,
                set: [`current=${promoted}`],
              });
              assert.equal(back.code, 0, failures(back));
              assert.deepEqual(await streamingTree(lab), { primaries: ['pg1'], tree: built });
              await writeOn(lab, 'pg1');
              assert.deepEqual((await checkSteadyState(lab.env, resolveSecretRef)).problems, []);
            });
          },
        );

        await t.test(
          'drills/cascade-middle-loss.yaml: pg3 streams from pg1 again, clients see nothing',
          async () => {
            const outcome = await runDrill(
              { drillFile: 'drills/cascade-middle-loss.yaml', inventoryFile: lab.inventoryPath, stateDir },
              quiet,
            );
            assert.equal(outcome.verdict, 'pass', outcome.reasons?.join('\n'));
            const f = outcome.figures!;
            assert.equal(f.rtoBasis, 'replication');
            assert.ok(f.rtoMs !== undefined && f.rtoMs < 15_000, `leaf streaming again after ${f.rtoMs} ms`);
            t.diagnostic(`leaf streaming again ${f.rtoMs} ms after the middle replica died`);
            assert.equal(f.writesFailed, 0, 'a client write failed');
            assert.ok(f.writesAcked > 0);
            assert.equal(f.rpoRows, 0);
            assert.equal(outcome.restore?.status, 'succeeded');
            // The restore put pg2 back in the middle.
            assert.deepEqual(await streamingTree(lab), { primaries: ['pg1'], tree: built });
          },
        );
      },
      { replicas: 3, topology: 'pg1>pg2>pg3', syncMode: 'quorum' },
    );
  });
});
