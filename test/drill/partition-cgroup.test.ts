// The partition's cgroup part, with real processes and no lab: which processes belong to a node
// (every listening socket on its address), their children, and the cgroup v2 they are moved into
// and back out of. Addresses from private slot 28's range (127.0.1.3x), a port the kernel picks.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  cgroup2Root,
  enterPartitionCgroup,
  leavePartitionCgroup,
  partitionCgroup,
  processesOwning,
  withDescendants,
} from '../../src/system/partition-chain.js';

const NODE = '127.0.1.38';
const OTHER = '127.0.1.39';

/** A node process listening on the given addresses, with one child (as a postmaster has). */
function listener(hosts: string[]): Promise<{ child: ChildProcess; grandchild: number }> {
  const script = `
    const net = require('node:net');
    const { spawn } = require('node:child_process');
    const hosts = ${JSON.stringify(hosts)};
    let n = 0;
    for (const h of hosts) net.createServer().listen(0, h, () => {
      if (++n === hosts.length) {
        const c = spawn('sleep', ['60'], { stdio: 'ignore' });
        process.stdout.write(String(c.pid) + '\\n');
      }
    });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve({ child, grandchild: Number(d.toString().trim()) }));
    child.once('exit', (code) => reject(new Error(`listener exited with ${code}`)));
  });
}

const cgroupOf = (pid: number) =>
  readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('0::'))
    ?.slice(3);

describe('partition: the processes of a node that shares the machine', () => {
  const started: ChildProcess[] = [];
  const kids: number[] = [];
  after(() => {
    for (const c of started) c.kill('SIGKILL');
    for (const k of kids) {
      try {
        process.kill(k, 'SIGKILL');
      } catch {
        // gone with its parent
      }
    }
  });

  test('a process belongs to the node only when every socket it listens on is on the node address', async () => {
    const own = await listener([NODE]);
    const shared = await listener([NODE, OTHER]);
    started.push(own.child, shared.child);
    kids.push(own.grandchild, shared.grandchild);
    const owning = await processesOwning(NODE);
    assert.ok(owning.includes(own.child.pid!), `${own.child.pid} in ${owning.join(' ')}`);
    assert.ok(!owning.includes(shared.child.pid!), 'a process listening on another address too is shared');
    assert.deepEqual(withDescendants([own.child.pid!]).sort(), [own.child.pid!, own.grandchild].sort());
  });

  test('moved into the partition cgroup with its children, and back to the root when healed', async (t) => {
    const root = cgroup2Root();
    if (process.getuid?.() !== 0 || !root) {
      if (process.env.CI === 'true') assert.fail('partition needs root and cgroup v2 on CI');
      return t.skip('needs root and cgroup v2');
    }
    const own = await listener([NODE]);
    started.push(own.child);
    kids.push(own.grandchild);
    const pids = withDescendants(await processesOwning(NODE));
    try {
      assert.equal(enterPartitionCgroup(root, NODE, pids), pids.length);
      assert.equal(cgroupOf(own.child.pid!), `/${partitionCgroup(NODE)}`);
      assert.equal(cgroupOf(own.grandchild), `/${partitionCgroup(NODE)}`);
    } finally {
      assert.equal(leavePartitionCgroup(root, NODE), pids.length);
    }
    assert.equal(cgroupOf(own.child.pid!), '/');
    assert.equal(existsSync(join(root, partitionCgroup(NODE))), false, 'the cgroup is removed');
    assert.equal(leavePartitionCgroup(root, NODE), 0, 'healing twice is harmless');
  });
});
