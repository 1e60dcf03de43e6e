// Bad input gets one clear UserError, before anything is started or removed.
import assert from 'node:assert/strict';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Command } from '@commander-js/extra-typings';
import { registerLab } from '../../src/cli/commands/lab.js';
import { UserError } from '../../src/errors.js';
import { labDown, labEnvPath, labUp, type LabUpOptions } from '../../src/lab/index.js';

// Addresses and ports no other lab of the suite uses, in case a check wrongly lets `up` through.
const ISOLATED: LabUpOptions = {
  baseAddress: '127.0.0.60',
  routerPort: 6472,
  dnsPort: 5403,
  dnsApiPort: 8131,
  slackPort: 4049,
};

function userError(pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  };
}

describe('lab bad input', () => {
  const root = mkdtempSync(join(tmpdir(), 'drillbook-lab-bad-'));
  after(async () => {
    // Should a check fail open, never leave a lab running.
    for (const name of ['taken', 'bins', 'replicas']) await labDown(join(root, name)).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  });

  test('a taken port is named, and nothing is started', async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const dir = join(root, 'taken');
    try {
      await assert.rejects(
        labUp({ ...ISOLATED, dir, slackPort: port }),
        userError(new RegExp(`127\\.0\\.0\\.1:${port}.*Slack`)),
      );
      assert.equal(existsSync(dir), false, 'a failed check created the lab directory');
    } finally {
      server.close();
    }
  });

  test('missing PostgreSQL binaries name the Debian package', async () => {
    const empty = join(root, 'empty-bin');
    mkdirSync(empty);
    await assert.rejects(
      labUp({ ...ISOLATED, dir: join(root, 'bins'), pgBinDir: empty }),
      userError(/initdb.*"postgresql"/),
    );
  });

  test('a lab directory owned by someone else is refused', async () => {
    let foreign = tmpdir(); // owned by root, so foreign to a normal user
    if (process.getuid?.() === 0) {
      foreign = join(root, 'foreign');
      mkdirSync(foreign);
      chownSync(foreign, 65534, 65534);
    }
    await assert.rejects(labUp({ ...ISOLATED, dir: foreign }), userError(/owned by uid \d+, not by you/));
    await assert.rejects(labDown(foreign), userError(/owned by uid/));
  });

  test('a non-empty directory that is not a lab is neither used nor removed', async () => {
    const dir = join(root, 'not-a-lab');
    mkdirSync(dir);
    writeFileSync(join(dir, 'precious.txt'), 'keep me');
    await assert.rejects(labUp({ ...ISOLATED, dir }), userError(/not a drillbook lab/));
    await assert.rejects(labDown(dir), userError(/not a drillbook lab/));
    assert.equal(existsSync(join(dir, 'precious.txt')), true);
  });

  test('bad shapes: replica count, base address, clashing ports', async () => {
    const dir = join(root, 'replicas');
    await assert.rejects(labUp({ ...ISOLATED, dir, replicas: 99 }), userError(/--replicas/));
    await assert.rejects(labUp({ ...ISOLATED, dir, baseAddress: '10.0.0.1' }), userError(/loopback/));
    await assert.rejects(labUp({ ...ISOLATED, dir, dnsApiPort: 4049 }), userError(/both ask for port 4049/));
  });

  test('lab env and lab down without a lab', async () => {
    assert.throws(() => labEnvPath(join(root, 'nothing')), userError(/no lab inventory/));
    assert.deepEqual((await labDown(join(root, 'nothing'))).stopped, []);
  });

  test('the CLI turns a malformed number into a UserError', async () => {
    const program = new Command('drillbook').exitOverride();
    registerLab(program);
    await assert.rejects(
      program.parseAsync(['lab', 'up', '--dir', join(root, 'cli'), '--replicas', 'two'], { from: 'user' }),
      userError(/--replicas must be a whole number/),
    );
  });
});
