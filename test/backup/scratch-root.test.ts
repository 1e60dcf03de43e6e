// The scratch root (default /var/tmp/drillbook-scratch, which any user may pre-create) is used only
// when it is ours alone: drillbook creates, runs and removes instances in it, as root in production.
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  lchownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { cleanStaleScratch, createScratch } from '../../src/backup/scratch.js';
import type { PgTools } from '../../src/backup/tools.js';
import { StepFailure } from '../../src/errors.js';

const top = mkdtempSync(join(tmpdir(), 'drillbook-scratch-root-'));
chmodSync(top, 0o755);
after(() => rmSync(top, { recursive: true, force: true }));
const asRoot = process.getuid?.() === 0;
const NOBODY = 65534;
const tools = {} as PgTools;
const signal = AbortSignal.timeout(30_000);
const refused = (pattern: RegExp) => (err: unknown) =>
  err instanceof StepFailure && !err.message.includes('\n') && pattern.test(err.message);

describe('the scratch root', () => {
  test(
    'owned by another user: refused, and nothing is created or removed in it',
    { skip: !asRoot && 'needs root to chown' },
    async () => {
      const root = join(top, 'foreign');
      mkdirSync(join(root, 'instance-planted'), { recursive: true });
      chownSync(root, NOBODY, NOBODY);
      await assert.rejects(createScratch(tools, root, signal), refused(/owned by uid 65534, not by you/));
      await assert.rejects(cleanStaleScratch(root), refused(/owned by uid 65534/));
      assert.deepEqual(readdirSync(root), ['instance-planted']);
    },
  );

  test(
    'a symbolic link another user planted: refused',
    { skip: !asRoot && 'needs root to chown' },
    async () => {
      const target = join(top, 'ours');
      mkdirSync(target);
      const link = join(top, 'planted-link');
      symlinkSync(target, link);
      lchownSync(link, NOBODY, NOBODY);
      await assert.rejects(createScratch(tools, link, signal), refused(/owned by uid 65534/));
      assert.deepEqual(readdirSync(target), []);
    },
  );

  test('writable by other users: refused', async () => {
    const root = join(top, 'open');
    mkdirSync(root);
    chmodSync(root, 0o777);
    await assert.rejects(createScratch(tools, root, signal), refused(/writable by other users \(mode 777\)/));
    assert.deepEqual(readdirSync(root), []);
  });

  test('ours (or absent) is used', async () => {
    const root = join(top, 'fresh');
    const scratch = await createScratch(tools, root, signal);
    assert.match(scratch.dir, /instance-/);
    await scratch.destroy();
    assert.deepEqual(readdirSync(root), []);
  });
});
