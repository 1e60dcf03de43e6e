// The shipped HA runbooks end to end, through `drillbook run` on a private lab (slot 4) with
// synchronous replication: pg-failover after a SIGKILL of the primary, pg-failback to the original
// topology, pg-switchover (planned) and pg-failback as its way back. The tests hand the cluster on
// in order; after each, lab status shows one primary and every other node streaming from it, and
// writes through HAProxy and the DNS name land on the primary.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { connectPostgres, nodeEndpoint } from '../../src/connectors/postgres.js';
import { resolveSecretRef } from '../../src/connectors/secrets.js';
import type { Environment, Inventory } from '../../src/schema/inventory.js';
import { privateLab, type PrivateLab } from '../helpers/private-lab.js';
import {
  addressOf,
  assertCluster,
  failures,
  killPostmaster,
  routedTo,
  runRunbook,
  type RunbookRun,
  valuesOn,
  writeVia,
} from '../helpers/runbook-run.js';

const stateDir = mkdtempSync(join(tmpdir(), 'drillbook-ha-runs-'));
after(() => rmSync(stateDir, { recursive: true, force: true }));

/** Writes through the router and through the DNS name both reach `primary`. */
async function assertRoutesReach(lab: PrivateLab, primary: string, tag: string): Promise<void> {
  assert.equal(await writeVia(lab, 'router', `${tag}-router`), addressOf(lab, primary), 'router');
  assert.equal(await writeVia(lab, 'dns', `${tag}-dns`), addressOf(lab, primary), 'DNS name');
}

/**
 * Writes numbered rows straight to pg1 as fast as they are acknowledged, until pg1 dies; the
 * acknowledged ones (with synchronous replication each is on a replica before its ack).
 */
async function writeUntilDead(lab: PrivateLab, started: () => void): Promise<string[]> {
  const client = await connectPostgres(nodeEndpoint(lab.environment, 'pg1'), { secret: resolveSecretRef });
  client.on('error', () => undefined);
  const acked: string[] = [];
  try {
    for (let n = 0; ; n++) {
      await client.query('INSERT INTO ha_writes (value) VALUES ($1)', [`acked-${n}`]);
      acked.push(`acked-${n}`);
      if (n === 100) started();
    }
  } catch {
    return acked;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A copy of the lab inventory with its `lab` environment changed (a fault), in the runs' directory. */
function inventoryWith(lab: PrivateLab, name: string, change: (env: Environment) => void): string {
  const inventory = parse(readFileSync(lab.inventoryPath, 'utf8')) as Inventory;
  change(inventory.environments.lab!);
  const file = join(stateDir, `${name}.inventory.yaml`);
  writeFileSync(file, stringify(inventory));
  return file;
}

/** A secret reference to a file holding a wrong value. */
function wrongSecret(name: string): string {
  const file = join(stateDir, `${name}.secret`);
  writeFileSync(file, 'not-the-secret\n', { mode: 0o600 });
  return `file:${file}`;
}

const failedStep = (run: RunbookRun) =>
  [...run.steps.values()].find((s) => s.status === 'failed' && !s.continued);
const rollbackOf = (run: RunbookRun) =>
  run.events
    .filter((e) => e.type === 'step-finished' && e.phase === 'rollback')
    .map((e) => e.type === 'step-finished' && `${e.stepId}:${e.status}`);

/** The run failed at `step` with an error matching `cause`, after `attempts` attempts; the rollback told the team. */
function assertFailedAt(
  run: RunbookRun,
  step: string,
  cause: RegExp,
  attempts: number,
  rollback = 'tell-failure:succeeded',
): void {
  assert.equal(run.code, 1, failures(run));
  const failed = failedStep(run);
  assert.equal(failed?.stepId, step, failures(run));
  assert.match(failed.error ?? '', cause);
  assert.equal(failed.attempts, attempts, failures(run));
  assert.equal(run.finished?.failedStep, step);
  assert.deepEqual(rollbackOf(run), [rollback]);
}

describe('HA runbooks end to end (drillbook run, private lab, --sync)', () => {
  const lab = privateLab(4, { sync: true });
  let promoted: string | undefined;

  test('pg-failover after SIGKILL of the primary: no acknowledged write lost, pg1 fenced', async (t) => {
    const l = lab(t);
    if (!l) return;
    await assertRoutesReach(l, 'pg1', 'before');
    let kill!: Promise<void>;
    const acked = await writeUntilDead(l, () => (kill = killPostmaster(l, 'pg1')));
    await kill;

    const run = await runRunbook(l, 'pg-failover.yaml', { stateDir, set: ['reason=test: pg1 killed'] });
    assert.equal(run.code, 0, failures(run));
    promoted = run.steps.get('pick')!.outputs.node as string;
    assert.ok(['pg2', 'pg3'].includes(promoted));
    assert.equal(run.steps.get('promote')!.outputs.timeline, 2);
    t.diagnostic(
      `failover to ${promoted}: ${Math.round(run.finished!.durationMs)} ms; ${acked.length} acknowledged writes`,
    );

    await assertCluster(l, promoted, ['pg1']);
    assert.deepEqual(await routedTo(l, 'pg1'), [], 'HAProxy still routes to pg1');
    await assertRoutesReach(l, promoted, 'failover');
    const on = await valuesOn(l, promoted);
    assert.deepEqual(
      acked.filter((v) => !on.has(v)),
      [],
      'acknowledged writes missing on the new primary',
    );
  });

  test('pg-failback: pg1 rewound, rejoined and primary again', async (t) => {
    const l = lab(t);
    if (!l || !promoted) return t.skip('no failover to fail back from');
    const run = await runRunbook(l, 'pg-failback.yaml', { stateDir, set: [`current=${promoted}`] });
    assert.equal(run.code, 0, failures(run));
    assert.equal(run.steps.get('rejoin-original')!.outputs.rewound, true);
    t.diagnostic(`failback: ${Math.round(run.finished!.durationMs)} ms`);
    await assertCluster(l, 'pg1');
    await assertRoutesReach(l, 'pg1', 'failback');
    assert.ok((await valuesOn(l, 'pg1')).has('failover-router'), 'a write taken during the failover is lost');
  });

  test('pg-switchover: the row written just before is on the new primary; pg-failback returns', async (t) => {
    const l = lab(t);
    if (!l) return;
    await writeVia(l, 'router', 'just-before-switchover');
    const run = await runRunbook(l, 'pg-switchover.yaml', { stateDir });
    assert.equal(run.code, 0, failures(run));
    const next = run.steps.get('pick')!.outputs.node as string;
    t.diagnostic(`switchover to ${next}: ${Math.round(run.finished!.durationMs)} ms`);
    assert.ok((await valuesOn(l, next)).has('just-before-switchover'), 'the last write before it is lost');
    await assertCluster(l, next);
    await assertRoutesReach(l, next, 'switchover');

    const back = await runRunbook(l, 'pg-failback.yaml', { stateDir, set: [`current=${next}`] });
    assert.equal(back.code, 0, failures(back));
    assert.equal(back.steps.get('rejoin-original')!.outputs.alreadyStreaming, true);
    await assertCluster(l, 'pg1');
    await assertRoutesReach(l, 'pg1', 'switch-back');
    assert.ok((await valuesOn(l, 'pg1')).has('switchover-dns'));
  });

  test('wrong credentials, a refused host key, an unreachable host: pg-switchover stops before any change', async (t) => {
    const l = lab(t);
    if (!l) return;
    const password = inventoryWith(l, 'password', (env) => (env.postgres.password = wrongSecret('password')));
    const badLogin = await runRunbook(l, 'pg-switchover.yaml', { stateDir, inventory: password });
    assertFailedAt(badLogin, 'verify-primary-up', /pg1.*password authentication failed/, 1);

    const pg1 = l.environment.ssh!.pg1!;
    const knownHosts = join(stateDir, 'wrong_known_hosts');
    writeFileSync(
      knownHosts,
      `[${pg1.host}]:${pg1.port ?? 22} ssh-ed25519 ${Buffer.alloc(51, 7).toString('base64')}\n`,
    );
    const hostKey = inventoryWith(l, 'host-key', (env) => (env.ssh!.pg1!.knownHosts = knownHosts));
    const refused = await runRunbook(l, 'pg-switchover.yaml', { stateDir, inventory: hostKey });
    // Not retried: another attempt would meet the same key.
    assertFailedAt(refused, 'fence', /host key of pg1 .* does not match .*refusing/, 1);

    // Nothing listens on the slot's .49 (its key pinned, so the connection is what fails): refused at
    // once, retried as the step allows.
    const pinned = readFileSync(pg1.knownHosts, 'utf8').replaceAll(`[${pg1.host}]`, '[127.0.0.49]');
    const movedKnownHosts = join(stateDir, 'moved_known_hosts');
    writeFileSync(movedKnownHosts, pinned);
    const gone = inventoryWith(l, 'unreachable', (env) => {
      env.ssh!.pg1 = { ...env.ssh!.pg1!, host: '127.0.0.49', knownHosts: movedKnownHosts };
    });
    const unreachable = await runRunbook(l, 'pg-switchover.yaml', { stateDir, inventory: gone });
    assertFailedAt(unreachable, 'fence', /ssh pg1 \(.*127\.0\.0\.49.*\).*ECONNREFUSED/, 3);
    await assertCluster(l, 'pg1');
  });

  test('a Slack outage does not block; a PowerDNS API error fails the dns step; pg-failback recovers', async (t) => {
    const l = lab(t);
    if (!l) return;
    const faulty = inventoryWith(l, 'slack-dns', (env) => {
      env.slack!.apiUrl = 'http://127.0.0.1:9/api/';
      for (const zone of Object.values(env.dns!.zones)) zone.apiKey = wrongSecret('pdns');
    });
    const run = await runRunbook(l, 'pg-switchover.yaml', { stateDir, inventory: faulty });
    const notify = run.steps.get('notify')!;
    assert.equal(notify.status, 'failed');
    assert.equal(notify.continued, true);
    assert.match(notify.error ?? '', /127\.0\.0\.1:9/);
    // A refused API key is not retried (only 429 and 5xx are); the rollback's Slack message fails too.
    assertFailedAt(run, 'dns', /PowerDNS.*HTTP 401/i, 1, 'tell-failure:failed');
    const next = run.steps.get('pick')!.outputs.node as string;

    // The new primary took over but DNS still names pg1: fail back to the original topology.
    const back = await runRunbook(l, 'pg-failback.yaml', { stateDir, set: [`current=${next}`] });
    assert.equal(back.code, 0, failures(back));
    await assertCluster(l, 'pg1');
    await assertRoutesReach(l, 'pg1', 'after-dns-error');
  });
});
