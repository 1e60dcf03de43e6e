// Several daemons, one execution: daemons in separate processes share a coordination database (the
// test lab's primary, named in a copy of its inventory) and each occurrence runs exactly once. A
// daemon killed mid-drill is found by its stale heartbeat, reported once, and not rerun.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { connectPostgres } from '../../src/connectors/postgres.js';
import { resolveSecretRef } from '../../src/connectors/secrets.js';
import { readDegraded } from '../../src/drill/degraded.js';
import { OCCURRENCE_TABLE, type Coordination } from '../../src/schedule/coordination.js';
import type { Inventory } from '../../src/schema/inventory.js';
import { requireLab, type TestLab } from '../helpers/lab.js';
import { startChild, tempDir, type ChildDaemon } from './processes.js';

const names: string[] = [];
let coordination: Coordination | undefined;

/** A drill directory whose inventory (a copy of the lab's) names the lab primary for coordination. */
function drillDir(lab: TestLab): { dir: string; name: string } {
  const dir = tempDir('coordinated-drills');
  const inventory = parse(readFileSync(lab.inventoryPath, 'utf8')) as Inventory;
  const env = inventory.environments.lab!;
  const primary = env.postgres.nodes[env.primary]!;
  coordination = {
    host: primary.host,
    port: primary.port,
    database: env.postgres.database,
    user: env.postgres.user,
    password: env.postgres.password,
  };
  env.coordination = coordination;
  writeFileSync(join(dir, 'inventory.yaml'), stringify(inventory));
  const name = `sched-${randomBytes(3).toString('hex')}`;
  names.push(name);
  writeFileSync(
    join(dir, `${name}.yaml`),
    stringify({
      apiVersion: 'drillbook/v1',
      kind: 'Drill',
      metadata: { name },
      runbook: resolve('runbooks/pg-failover.yaml'),
      restore: resolve('runbooks/pg-failback.yaml'),
      inventory: 'inventory.yaml',
      environment: 'lab',
      fault: { kind: 'kill-postgres', target: 'primary' },
      objectives: { rto: '10s', rpo: 0 },
      schedule: { cron: '* * * * *' }, // replaced by a schedule in seconds in the child
    }),
  );
  return { dir, name };
}

async function rows(name: string) {
  const client = await connectPostgres(coordination!, { secret: resolveSecretRef });
  try {
    const r = await client.query<{ occurrence: Date; status: string; daemon: string; detail: string | null }>(
      `select occurrence, status, daemon, detail from ${OCCURRENCE_TABLE} where drill = $1 order by occurrence`,
      [name],
    );
    return r.rows;
  } finally {
    await client.end();
  }
}

const stopAll = async (daemons: ChildDaemon[]) => {
  for (const d of daemons) d.child.kill('SIGTERM');
  return Promise.all(daemons.map((d) => d.exited));
};

after(async () => {
  if (!coordination || !names.length) return;
  const client = await connectPostgres(coordination, { secret: resolveSecretRef });
  await client.query(`delete from ${OCCURRENCE_TABLE} where drill = any($1)`, [names]).catch(() => undefined);
  await client.end();
});

describe('several daemons, one execution', () => {
  it('three daemons on one schedule: every occurrence runs exactly once', async (t) => {
    const lab = requireLab(t);
    if (!lab) return;
    const { dir, name } = drillDir(lab);
    const executions = tempDir('executions');
    const daemons = [1, 2, 3].map(() =>
      startChild({ executions, drillDir: dir, cron: '*/2 * * * * *', drillMs: 300 }),
    );
    await Promise.all(daemons.map((d) => d.waitFor((e) => e.event === 'start' && !!e.daemon)));
    await sleep(7_000);
    assert.deepEqual(await stopAll(daemons), [0, 0, 0], daemons.map((d) => d.stderr()).join('\n'));

    const all = daemons.flatMap((d) => d.events);
    const runs = all.filter((e) => e.event === 'run').map((e) => e.occurrence!);
    assert.ok(runs.length >= 3, `at least three occurrences ran: ${JSON.stringify(runs)}`);
    assert.equal(new Set(runs).size, runs.length, `an occurrence ran twice: ${JSON.stringify(runs.sort())}`);
    // Every occurrence a daemon decided about ran once: the others saw it claimed.
    const decided = new Set(
      all.filter((e) => e.event === 'skip' && e.reason === 'claimed').map((e) => e.occurrence!),
    );
    for (const o of decided) assert.ok(runs.includes(o), `${o} was claimed but never ran`);
    assert.ok(decided.size >= runs.length - 1, 'the other daemons saw the claims');

    const table = await rows(name);
    assert.deepEqual(
      table.map((r) => r.occurrence.toISOString()),
      [...runs].sort(),
    );
    assert.ok(table.every((r) => r.status === 'pass'));
  });

  it('a daemon killed mid-drill is reported once, for restore, and its occurrence is not rerun', async (t) => {
    const lab = requireLab(t);
    if (!lab) return;
    const { dir, name } = drillDir(lab);
    const executions = tempDir('executions');
    // The victim takes the first occurrence; the survivors start after it (and run later ones).
    const config = { executions, drillDir: dir, cron: '*/10 * * * * *', heartbeatMs: 200, staleMs: 1_000 };
    const victim = startChild({ ...config, drillMs: 60_000 });
    const run = await victim.waitFor((e) => e.event === 'run');
    const survivors = [1, 2].map(() => startChild({ ...config, drillMs: 300 }));
    await Promise.all(survivors.map((d) => d.waitFor((e) => e.event === 'start' && !!e.daemon)));
    victim.child.kill('SIGKILL');
    await victim.exited;

    const orphan = await Promise.race(survivors.map((d) => d.waitFor((e) => e.event === 'orphan', 10_000)));
    await sleep(1_000); // time for a second (wrong) report
    assert.deepEqual(await stopAll(survivors), [0, 0]);
    const reports = survivors.flatMap((d) => d.events).filter((e) => e.event === 'orphan');
    assert.equal(reports.length, 1, JSON.stringify(reports));
    assert.equal(orphan.occurrence, run.occurrence);
    assert.equal(orphan.environment, 'lab');
    assert.match(
      orphan.message,
      /needs a restore: drillbook run \S+\/runbooks\/pg-failback\.yaml --env lab; not rerun$/,
    );
    assert.ok(
      !survivors.some((d) => d.events.some((e) => e.event === 'run' && e.occurrence === run.occurrence)),
      'not rerun',
    );

    const row = (await rows(name)).find((r) => r.occurrence.toISOString() === run.occurrence)!;
    assert.equal(row.status, 'orphaned');
    assert.match(row.detail!, /no heartbeat since .*reported by/);
    // Someone has to act: the channel of the environment is told.
    const slack = readFileSync(join(lab.dir, 'slack', 'messages.jsonl'), 'utf8');
    assert.ok(
      slack.includes(`stopped while running drill ${name} (occurrence ${run.occurrence}`),
      'posted to Slack',
    );
    // The reporter holds further drills on the environment until someone looks.
    const reporter = survivors.find((d) => d.events.some((e) => e.event === 'orphan'))!;
    const stateDir = JSON.parse(reporter.child.spawnargs.at(-1)!).stateDir as string;
    assert.match(readDegraded(stateDir, 'lab')!.reason, /stopped while running drill/);
  });
});
