// A lab's life on its own addresses: --sync, idempotent up, repair after a crash, and a clean down.
import assert from 'node:assert/strict';
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { UserError } from '../../src/errors.js';
import { labDown, labStatus, labUp, type LabUpOptions } from '../../src/lab/index.js';
import type { LabState } from '../../src/lab/state.js';

// mkdtemp makes a private (0700) directory: as root, PostgreSQL's user cannot reach a lab inside it,
// so `up` places the lab under /var/tmp and links it from here.
const parent = mkdtempSync(join(tmpdir(), 'drillbook-lab-life-'));
const dir = join(parent, 'lab');
const asRoot = process.getuid?.() === 0;
const options: LabUpOptions = {
  dir,
  replicas: 1,
  sync: true,
  baseAddress: '127.0.0.40',
  routerPort: 6462,
  dnsPort: 5393,
  dnsApiPort: 8121,
  slackPort: 4039,
};

after(async () => {
  await labDown(dir).catch(() => undefined);
  rmSync(parent, { recursive: true, force: true });
});

/** Gone, or a zombie waiting to be reaped: either way no longer running. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

test('lab lifecycle: sync up, idempotent up, repair, down', async (t) => {
  await t.test('--sync makes the replica a quorum standby', async () => {
    await labUp(options);
    assert.equal(
      lstatSync(dir).isSymbolicLink(),
      asRoot,
      'placed under /var/tmp only when PostgreSQL runs as another user',
    );
    const status = await labStatus(dir);
    assert.ok(status.allUp, JSON.stringify(status, null, 2));
    const pg1 = status.components.find((c) => c.name === 'pg1')?.postgres;
    assert.equal(pg1?.role, 'primary');
    assert.deepEqual(pg1?.replication, [{ name: 'pg2', state: 'streaming', syncState: 'quorum' }]);
  });

  await t.test('a second up reports what runs and changes nothing', async () => {
    const { lines } = await labUp({ dir });
    assert.ok(lines.length > 0 && lines.every((l) => l.endsWith('already running')), lines.join('\n'));
    await assert.rejects(
      labUp({ dir, replicas: 3 }),
      (err) => err instanceof UserError && /lab down/.test(err.message),
    );
  });

  await t.test('a dead component and a half-built replica are repaired', async () => {
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as LabState;
    const haproxyPid = state.components.haproxy?.pid ?? 0;
    process.kill(haproxyPid, 'SIGKILL');
    // Pretend `up` crashed while building pg2: stopped, left unfinished, with junk in its directory.
    const pg2Pid = (await labStatus(dir)).components.find((c) => c.name === 'pg2')?.pid ?? 0;
    process.kill(pg2Pid, 'SIGINT');
    while (running(pg2Pid)) await new Promise((r) => setTimeout(r, 20));
    const pg2 = state.components.pg2;
    assert.ok(pg2);
    pg2.created = false;
    writeFileSync(join(dir, 'state.json'), JSON.stringify(state));
    writeFileSync(join(dir, 'postgres/pg2/data/half-written'), 'junk');

    const before = await labStatus(dir);
    assert.deepEqual(
      before.components.filter((c) => !c.up).map((c) => c.name),
      ['pg2', 'haproxy'],
    );
    const { lines } = await labUp({ dir });
    assert.ok(
      lines.some((l) => l.startsWith('pg2: replica of pg1 created')),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => l.startsWith('haproxy: restarted')),
      lines.join('\n'),
    );
    const afterRepair = await labStatus(dir);
    assert.ok(afterRepair.allUp, JSON.stringify(afterRepair, null, 2));
    assert.equal(existsSync(join(dir, 'postgres/pg2/data/half-written')), false);
  });

  await t.test('down stops every process by PID and removes the directory', async () => {
    const pids = (await labStatus(dir)).components.map((c) => c.pid ?? 0);
    assert.ok(pids.every((p) => p > 0));
    const place = realpathSync(dir);
    const result = await labDown(dir);
    assert.equal(result.stopped.length, pids.length);
    assert.deepEqual(pids.filter(running), []);
    assert.equal(existsSync(dir), false);
    assert.equal(existsSync(place), false);
    assert.throws(() => lstatSync(dir), 'the link is gone too');
  });
});
