import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { resolveSecretRef } from '../../src/connectors/secrets.js';
import { acquireFileLock, acquirePgLock, RunLocked, type LockHolder } from '../../src/engine/lock.js';
import { requireLab } from '../helpers/lab.js';
import { runCli, startCli, tempDir, writeFiles } from './helpers.js';

const holder = (runId: string, pid = process.pid): LockHolder => ({
  key: 'test',
  operator: 'alice@box',
  runId,
  since: '2030-01-01T00:00:00.000Z',
  pid,
  host: hostname(),
});

test('the lock file admits one holder and names it to the next', async (t) => {
  const path = join(tempDir(t), 'locks', 'test.lock');
  const first = acquireFileLock(path, holder('run-1'));
  assert.throws(
    () => acquireFileLock(path, holder('run-2')),
    (e: unknown) =>
      e instanceof RunLocked &&
      /held by alice@box \(run run-1, pid \d+ on .*since 2030-01-01/.test(e.message),
  );
  await first.release();
  const second = acquireFileLock(path, holder('run-2'));
  await second.release();
});

test('a lock whose holder died on this host is taken over; a release never frees another run’s lock', async (t) => {
  const path = join(tempDir(t), 'test.lock');
  const dead = spawnSync(process.execPath, [
    '-e',
    'process.stdout.write(String(process.pid))',
  ]).stdout.toString();
  writeFileSync(path, JSON.stringify(holder('crashed', Number(dead))));
  const lock = acquireFileLock(path, holder('run-3'));
  assert.equal(lock.tookOver?.runId, 'crashed');
  // Someone else's lock now in the file: our release leaves it alone.
  writeFileSync(path, JSON.stringify(holder('other')));
  await lock.release();
  assert.match(readFileSync(path, 'utf8'), /other/);
});

test('two concurrent runs on one environment: exactly one proceeds (lock file)', async (t) => {
  const dir = tempDir(t);
  const files = writeFiles(dir, `steps:\n  - { id: hold, kind: wait, with: { duration: 1500ms } }\n`);
  const args = ['run', files.runbook, '--env', 'test', '-i', files.inventory];
  const [a, b] = await Promise.all([runCli(t, args, { cwd: dir }), runCli(t, args, { cwd: dir })]);
  const codes = [a.code, b.code].sort();
  assert.deepEqual(codes, [0, 2], `${a.stderr}\n${b.stderr}`);
  const refused = a.code === 2 ? a : b;
  assert.match(refused.stderr, /lock "test" is held by .+ \(run .+, pid \d+/);
});

test('two concurrent runs from different machines: exactly one proceeds (PostgreSQL advisory lock)', async (t) => {
  const lab = requireLab(t);
  if (!lab) return;
  const env = lab.environment;
  const pg1 = env.postgres.nodes[env.primary]!;
  const coordination = {
    host: pg1.host,
    port: pg1.port,
    database: env.postgres.database,
    user: env.postgres.user,
    password: env.postgres.password,
  };
  // In process: the second session is refused and told who holds the lock.
  const first = await acquirePgLock(coordination, holder('pg-run-1'), { secret: resolveSecretRef });
  try {
    await assert.rejects(
      acquirePgLock(coordination, holder('pg-run-2'), { secret: resolveSecretRef }),
      (e: unknown) => e instanceof RunLocked && /held by alice@box \(run pg-run-1, since/.test(e.message),
    );
  } finally {
    await first.release();
  }
  const again = await acquirePgLock(coordination, holder('pg-run-3'), { secret: resolveSecretRef });
  await again.release();

  // Two CLI runs with separate state directories (as on two machines): only the database excludes them.
  const dir = tempDir(t);
  const inventory = join(dir, 'coordinated.yaml');
  writeFileSync(inventory, stringify({ ...lab.inventory, environments: { lab: { ...env, coordination } } }));
  const files = writeFiles(dir, `steps:\n  - { id: hold, kind: wait, with: { duration: 2s } }\n`);
  const args = ['run', files.runbook, '--env', 'lab', '-i', inventory];
  const machines = [join(dir, 'a'), join(dir, 'b')];
  for (const m of machines) spawnSync('mkdir', ['-p', m]);
  const runs = await Promise.all(machines.map((cwd) => startCli(t, args, { cwd })));
  const [a, b] = await Promise.all(runs.map((r) => r.done));
  assert.deepEqual([a!.code, b!.code].sort(), [0, 2], `${a!.stderr}\n${b!.stderr}`);
  assert.match((a!.code === 2 ? a! : b!).stderr, /held by \S+@.+\(run .+\) \[advisory lock on /);
});
