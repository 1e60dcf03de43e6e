// A catalog.json is written by whoever can write the store: its labels and file names must never
// make drillbook write or delete outside the store or the scratch directory.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { readCatalog, type BackupEntry } from '../../src/backup/catalog.js';
import { fetchBackup } from '../../src/backup/restore.js';
import type { Scratch } from '../../src/backup/scratch.js';
import { openStorage } from '../../src/backup/storage/storage.js';
import { StepFailure } from '../../src/errors.js';
import { actionContext } from '../helpers/action-context.js';

const top = mkdtempSync(join(tmpdir(), 'drillbook-store-names-'));
after(() => rmSync(top, { recursive: true, force: true }));

/** A store directory beside a victim directory that a crafted name points at. */
function layout(name: string) {
  const dir = join(top, name);
  const store = join(dir, 'store');
  const victim = join(dir, 'victim');
  mkdirSync(store, { recursive: true });
  mkdirSync(victim);
  writeFileSync(join(victim, 'precious'), 'x');
  return { dir, store, victim };
}

const entry = (label: string, files: string[]) =>
  ({
    label,
    method: 'basebackup',
    startedAt: '2024-01-01T00:00:00.000Z',
    verified: true,
    files: files.map((name) => ({ name, size: 1, sha256: '00' })),
  }) as BackupEntry;

const open = (path: string) => openStorage(actionContext({} as never), { type: 'local', path });

const oneLine = (pattern: RegExp) => (err: unknown) =>
  err instanceof StepFailure && !err.message.includes('\n') && pattern.test(err.message);

describe('names read from a backup store', () => {
  for (const [what, label, file] of [
    ['a label climbing out of the store', '../victim', 'base.tar.gz'],
    ['an absolute label', '/tmp', 'base.tar.gz'],
    ['an empty label (the whole store)', '', 'base.tar.gz'],
    ['a file name climbing out', 'base-20240101T000000000Z', '../../victim/precious'],
    ['a file name with a slash', 'base-20240101T000000000Z', 'sub/base.tar.gz'],
    ['a dot-dot file name', 'base-20240101T000000000Z', '..'],
  ] as const) {
    test(`a catalog with ${what} is refused in one line when read`, async () => {
      const { store } = layout(`catalog-${what.replace(/\W+/g, '-')}`);
      writeFileSync(
        join(store, 'catalog.json'),
        JSON.stringify({ version: 1, backups: [entry(label, [file])] }),
      );
      const storage = await open(store);
      await assert.rejects(
        readCatalog(storage),
        oneLine(/catalog\.json: backup (label|file name) .* refusing it$/),
      );
    });
  }

  test('retention never deletes outside the store: a crafted label is refused, the victim stays', async () => {
    const { store, victim } = layout('remove');
    const storage = await open(store);
    for (const label of ['../victim', '', '.', `${victim}`]) {
      await assert.rejects(storage.removeBackup(label), oneLine(/is not a label drillbook makes/));
    }
    assert.deepEqual(readdirSync(victim), ['precious']);
    assert.ok(existsSync(store));
  });

  test('the local store refuses keys that resolve outside it', async () => {
    const { store, dir } = layout('keys');
    const storage = await open(store);
    await assert.rejects(storage.writeText('../outside.json', '{}'), oneLine(/is not inside/));
    await assert.rejects(
      storage.put(join(dir, 'victim', 'precious'), '../../escaped', ''),
      oneLine(/not inside/),
    );
    assert.equal(existsSync(join(dir, 'outside.json')), false);
    assert.equal(existsSync(join(top, 'escaped')), false);
  });

  test('a restore writes no downloaded file outside its scratch directory', async () => {
    const { store, dir } = layout('fetch');
    const scratchFiles = join(dir, 'scratch');
    mkdirSync(scratchFiles);
    mkdirSync(join(store, 'base-20240101T000000000Z'));
    writeFileSync(join(store, 'base-20240101T000000000Z', 'x'), 'payload');
    const storage = await open(store);
    const crafted = entry('base-20240101T000000000Z', ['../planted']);
    await assert.rejects(
      fetchBackup(storage, crafted, { files: scratchFiles } as Scratch),
      oneLine(/not a plain file name/),
    );
    assert.equal(existsSync(join(dir, 'planted')), false);
  });

  test('a catalog written by drillbook reads back', async () => {
    const { store } = layout('good');
    const good = entry('dump-20240101T000000123Z', ['base.tar.gz', 'my db.dump', 'backup_manifest']);
    writeFileSync(join(store, 'catalog.json'), JSON.stringify({ version: 1, backups: [good] }));
    assert.equal((await readCatalog(await open(store))).backups.length, 1);
  });
});
