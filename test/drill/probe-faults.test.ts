// The probe and the reversible faults on the shared test lab; each fault is reverted before the
// test ends, so the lab is left as it was found.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { EnvContext } from '../../src/actions/types.js';
import { withNode } from '../../src/connectors/postgres.js';
import { resolveSecretRef } from '../../src/connectors/secrets.js';
import { freeze } from '../../src/drill/faults/freeze.js';
import { partition } from '../../src/drill/faults/partition.js';
import { replicaLag } from '../../src/drill/faults/replica-lag.js';
import type { Fault, FaultContext } from '../../src/drill/faults/types.js';
import { drillFigures } from '../../src/drill/figures.js';
import { TYPICAL_PROFILE } from '../../src/drill/client-profiles.js';
import { Probe, PROBE_TABLE, probeRowKey } from '../../src/drill/probe.js';
import { probeRoute } from '../../src/drill/probe-route.js';
import { checkSteadyState } from '../../src/drill/steady-state.js';
import type { PostgresNode } from '../../src/schema/inventory.js';
import { requireLab } from '../helpers/lab.js';

const secret = resolveSecretRef;

function context(env: EnvContext, node: string, logs: string[]): FaultContext {
  return { env, node, secret, log: (m) => logs.push(m) };
}

async function probeAround(env: EnvContext, fault: Fault, node: string, holdMs: number) {
  const runId = `probe-${fault.kind}-${Date.now()}`;
  const probe = new Probe({
    connect: probeRoute(env, { via: 'router' }, secret).connect,
    runId,
    intervalMs: 50,
    profile: {
      name: 'impatient',
      connectTimeoutMs: 400,
      writeTimeoutMs: 400,
      reconnectDelayMs: 0,
      via: 'router',
    },
  });
  await probe.start();
  await sleep(300);
  const logs: string[] = [];
  const ctx = context(env, node, logs);
  let faultAt = 0;
  try {
    faultAt = (await fault.inject(ctx)).at;
    await sleep(holdMs);
  } finally {
    logs.push(await fault.revert(ctx));
  }
  await sleep(1500);
  const writes = await probe.stop();
  const present = await withNode(env, env.primary, { secret }, (c) =>
    c.query<{ seq: number }>(`SELECT seq FROM ${PROBE_TABLE} WHERE run_id = $1`, [
      probeRowKey(runId, 'impatient'),
    ]),
  );
  const figures = drillFigures({
    writes,
    faultAt,
    presentSeqs: new Set(present.rows.map((r) => r.seq)),
    oldPrimary: writes.find((w) => w.server)?.server ?? '',
  });
  return { figures, logs };
}

describe('probe and reversible faults on the test lab', () => {
  it('the environment is in its steady state', async (t) => {
    const lab = requireLab(t);
    if (!lab) return;
    const state = await checkSteadyState({ ...lab.environment, name: 'lab' }, secret);
    assert.deepEqual(state.problems, []);
    assert.deepEqual(Object.keys(state.lagBytes).sort(), lab.environment.replicas);
  });

  it('the probe writes through the router and through the DNS name', async (t) => {
    const lab = requireLab(t);
    if (!lab) return;
    const env = { ...lab.environment, name: 'lab' };
    for (const via of ['router', 'dns'] as const) {
      const probe = new Probe({
        connect: probeRoute(env, { via }, secret).connect,
        runId: `probe-${via}-${Date.now()}`,
        intervalMs: 20,
        profile: { ...TYPICAL_PROFILE, via },
      });
      await probe.start();
      await sleep(400);
      const writes = await probe.stop();
      assert.ok(writes.length >= 5, `${via}: ${writes.length} writes`);
      assert.ok(
        writes.every((w) => w.ackAt !== undefined),
        JSON.stringify(writes.find((w) => w.error)),
      );
      const primaryNode: PostgresNode = lab.environment.postgres.nodes[lab.environment.primary]!;
      assert.equal(writes[0]!.server, `${primaryNode.host}:${primaryNode.port}`);
    }
  });

  it('freeze: writes stop while the primary is frozen and come back after SIGCONT', async (t) => {
    const lab = requireLab(t);
    if (!lab) return;
    const env = { ...lab.environment, name: 'lab' };
    const { figures, logs } = await probeAround(env, freeze, env.primary, 1200);
    assert.match(logs[0]!, /froze pg1/);
    assert.match(logs[1]!, /resumed pg1/);
    assert.ok(figures.writesFailed >= 1, JSON.stringify(figures));
    assert.ok(figures.rtoMs !== undefined && figures.rtoMs >= 1200, `RTO ${figures.rtoMs}`);
    assert.equal(figures.rpoRows, 0);
  });

  it('partition: the primary is cut off by iptables, then healed', async (t) => {
    const lab = requireLab(t);
    if (!lab) return;
    if (process.getuid?.() !== 0) {
      const env = { ...lab.environment, name: 'lab' };
      await assert.rejects(partition.inject(context(env, env.primary, [])), /needs root/);
      return;
    }
    const env = { ...lab.environment, name: 'lab' };
    const { figures, logs } = await probeAround(env, partition, env.primary, 1000);
    assert.match(logs[0]!, /partitioned pg1/);
    // Its address in and out, its processes' cgroup, and each connection they already had open.
    assert.match(
      logs[1]!,
      /healed the partition of pg1 \([3-9]\d* rule\(s\) removed, [1-9]\d* process\(es\) released\)/,
    );
    assert.ok(figures.writesFailed >= 1, JSON.stringify(figures));
    assert.ok(figures.rtoMs !== undefined && figures.rtoMs >= 1000, `RTO ${figures.rtoMs}`);
    assert.match(await partition.revert(context(env, env.primary, [])), /no partition rules/);
  });

  it('replica-lag: replay pauses on the replica and resumes on revert; a primary is refused', async (t) => {
    const lab = requireLab(t);
    if (!lab) return;
    const env = { ...lab.environment, name: 'lab' };
    const replica = env.replicas[0]!;
    const paused = () =>
      withNode(
        env,
        replica,
        { secret },
        async (c) => (await c.query<{ p: boolean }>('SELECT pg_is_wal_replay_paused() AS p')).rows[0]!.p,
      );
    const ctx = context(env, replica, []);
    try {
      await replicaLag.inject(ctx);
      assert.equal(await paused(), true);
    } finally {
      await replicaLag.revert(ctx);
    }
    assert.equal(await paused(), false);
    await assert.rejects(replicaLag.inject(context(env, env.primary, [])), /needs a replica/);
  });
});
