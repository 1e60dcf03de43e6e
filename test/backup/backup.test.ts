// backup, restore-test, pitr and verify's backup-age against a private lab with WAL archiving
// (slot 7): both backup methods into a local store, SSH and S3 stores, retention, a measured
// restore test that leaves nothing behind, point-in-time recovery to a restore point and an LSN,
// and the failures: damaged backup, missing WAL segment, missing program, unwritable store.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { backup } from '../../src/actions/backup.js';
import { pitr } from '../../src/actions/pitr.js';
import { restoreTest } from '../../src/actions/restore-test.js';
import { verify } from '../../src/actions/verify.js';
import type { Catalog } from '../../src/backup/catalog.js';
import { createScratch } from '../../src/backup/scratch.js';
import { pgTools } from '../../src/backup/tools.js';
import { StepFailure, UserError } from '../../src/errors.js';
import { actionContext } from '../helpers/action-context.js';
import { privateLab, type PrivateLab } from '../helpers/private-lab.js';
import { archiveNow, assertNoScratch, items, sql, tempDirs } from './fixture.js';
import { fetchObject, localS3 } from './s3rver.js';

const run = <I>(
  action: { run?: (ctx: never, input: never) => Promise<Record<string, unknown>> },
  lab: PrivateLab,
  input: I,
) => action.run!(actionContext(lab.environment) as never, input as never);
const failureOf = (p: Promise<unknown>) =>
  p.then(
    () => assert.fail('expected a failure'),
    (err: unknown) => err as Error,
  );
const catalogAt = (dir: string) => JSON.parse(readFileSync(join(dir, 'catalog.json'), 'utf8')) as Catalog;
/** A directory nobody may write into: chattr +i for root (who ignores modes), mode 555 otherwise. */
function makeReadOnly(dir: string): () => void {
  if (process.getuid?.() !== 0) {
    chmodSync(dir, 0o555);
    return () => chmodSync(dir, 0o755);
  }
  execFileSync('chattr', ['+i', dir]);
  return () => execFileSync('chattr', ['-i', dir]);
}
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('backups on a lab with WAL archiving', () => {
  const lab = privateLab(7, { archive: true, archiveTimeout: '1s', replicas: 0 });
  const dir = tempDirs('drillbook-backup-test-');

  test('basebackup into a local store: verified, catalogued with LSNs, sizes, SHA-256 and table checksums', async (t) => {
    const l = lab(t);
    if (!l) return;
    await items(l);
    const store = dir('local');
    const out = await run(backup, l, { storage: { type: 'local', path: store }, tables: ['items'] });
    assert.match(String(out.label), /^base-\d{8}T\d{9}Z$/);
    assert.match(String(out.startLsn), /^[0-9A-F]+\/[0-9A-F]+$/);
    assert.equal(out.location, join(store, String(out.label)));
    const [entry] = catalogAt(store).backups;
    assert.equal(entry!.label, out.label);
    assert.equal(entry!.verified, true);
    assert.equal(entry!.verifiedBy, 'pg_verifybackup');
    assert.deepEqual(
      entry!.files.map((f) => f.name),
      ['backup_manifest', 'base.tar.gz', 'pg_wal.tar.gz'],
    );
    for (const f of entry!.files) {
      const stored = join(store, entry!.label, f.name);
      assert.equal(sha256(stored), f.sha256, f.name);
      assert.equal(readFileSync(stored).length, f.size);
    }
    assert.equal(
      out.sizeBytes,
      entry!.files.reduce((n, f) => n + f.size, 0),
    );
    assert.deepEqual(
      entry!.tables.map((x) => [x.table, x.rows]),
      [['items', 5000]],
    );
    t.diagnostic(`basebackup ${String(out.sizeBytes)} bytes in ${String(out.durationMs)} ms`);
  });

  test('dump into a local store: pg_dump -Fc in the snapshot of the table checksums, read through by pg_restore', async (t) => {
    const l = lab(t);
    if (!l) return;
    await items(l);
    const store = dir('dump');
    const out = await run(backup, l, {
      method: 'dump',
      storage: { type: 'local', path: store },
      tables: ['items'],
    });
    const [entry] = catalogAt(store).backups;
    assert.equal(entry!.method, 'dump');
    assert.equal(entry!.verifiedBy, 'pg_restore');
    assert.deepEqual(
      entry!.files.map((f) => f.name),
      ['drillbook.dump'],
    );
    assert.equal(sha256(join(store, String(out.label), 'drillbook.dump')), entry!.files[0]!.sha256);
    const restored = await run(restoreTest, l, {
      storage: { type: 'local', path: store },
      scratchDir: dir('scratch'),
    });
    assert.equal(restored.tablesChecked, 1);
  });

  test('restore-test: the newest verified backup restores, matches its checksums, is timed and torn down', async (t) => {
    const l = lab(t);
    if (!l) return;
    await items(l);
    const store = dir('restore');
    const scratchDir = dir('scratch');
    await run(backup, l, { storage: { type: 'local', path: store }, tables: ['items'] });
    const out = await run(restoreTest, l, { storage: { type: 'local', path: store }, scratchDir });
    assert.equal(out.tablesChecked, 1);
    assert.ok(
      typeof out.indexesChecked === 'number' && out.indexesChecked > 0,
      'amcheck checked B-tree indexes',
    );
    assert.ok(Number(out.timeToUsableMs) > 0 && Number(out.timeToUsableMs) <= Number(out.totalMs));
    assert.deepEqual(await assertNoScratch(scratchDir, Number(out.port)), []);
    const tests = catalogAt(store).backups[0]!.restoreTests!;
    assert.equal(tests.length, 1);
    assert.equal(tests[0]!.ok, true);
    t.diagnostic(
      `restore-test: usable after ${String(out.timeToUsableMs)} ms, total ${String(out.totalMs)} ms`,
    );
  });

  test('retention removes old backups only once a newer one verified', async (t) => {
    const l = lab(t);
    if (!l) return;
    const store = dir('retention');
    const storage = { type: 'local', path: store };
    const first = await run(backup, l, { storage, keep: 1 });
    // A backup that fails (an unknown table to checksum) stores nothing and removes nothing.
    const failed = await failureOf(run(backup, l, { storage, keep: 1, tables: ['no_such_table'] }));
    assert.match(failed.message, /table no_such_table does not exist/);
    assert.deepEqual(
      catalogAt(store).backups.map((b) => b.label),
      [first.label],
    );
    assert.ok(existsSync(join(store, String(first.label))));
    const second = await run(backup, l, { storage, keep: 1 });
    assert.deepEqual(second.removed, [first.label]);
    assert.deepEqual(
      catalogAt(store).backups.map((b) => b.label),
      [second.label],
    );
    assert.deepEqual(readdirSync(store).sort(), [String(second.label), 'catalog.json'].sort());
  });

  test('a damaged backup fails the restore test loudly, by checksum and (checksum forged) by extraction or pg_verifybackup', async (t) => {
    const l = lab(t);
    if (!l) return;
    const store = dir('damaged');
    const scratchDir = dir('scratch');
    const out = await run(backup, l, { storage: { type: 'local', path: store } });
    const file = join(store, String(out.label), 'base.tar.gz');
    const bytes = readFileSync(file);
    for (let i = 1000; i < 1100; i++) bytes[i] = bytes[i]! ^ 0xff;
    writeFileSync(file, bytes);
    const err = await failureOf(run(restoreTest, l, { storage: { type: 'local', path: store }, scratchDir }));
    assert.ok(err instanceof StepFailure);
    assert.match(
      err.message,
      /base\.tar\.gz is damaged: SHA-256 [0-9a-f]{64}, the catalog recorded [0-9a-f]{64}/,
    );
    // Someone "fixes" the catalog: the damage is still caught before any instance starts.
    const catalog = catalogAt(store);
    catalog.backups[0]!.files.find((f) => f.name === 'base.tar.gz')!.sha256 = sha256(file);
    writeFileSync(join(store, 'catalog.json'), JSON.stringify(catalog));
    const again = await failureOf(
      run(restoreTest, l, { storage: { type: 'local', path: store }, scratchDir }),
    );
    assert.match(again.message, /cannot extract base\.tar\.gz|does not match its manifest/);
    assert.deepEqual(await assertNoScratch(scratchDir, undefined), []);
    assert.deepEqual(
      catalogAt(store).backups[0]!.restoreTests!.map((r) => r.ok),
      [false, false],
    );
  });

  test('pitr: to a restore point and to an LSN, the rows before are there and the rows after are not', async (t) => {
    const l = lab(t);
    if (!l) return;
    const store = dir('pitr');
    const storage = { type: 'local', path: store };
    await sql(l, 'CREATE TABLE IF NOT EXISTS events (id int PRIMARY KEY)');
    await sql(l, 'TRUNCATE events');
    await run(backup, l, { storage });
    await sql(l, 'INSERT INTO events SELECT generate_series(1, 100)');
    const [point] = await sql<{ lsn: string }>(
      l,
      `SELECT pg_create_restore_point('before-batch-2')::text AS lsn`,
    );
    await sql(l, 'INSERT INTO events SELECT generate_series(101, 200)');
    const [mid] = await sql<{ lsn: string }>(l, 'SELECT pg_current_wal_lsn()::text AS lsn');
    await sql(l, 'DELETE FROM events WHERE id <= 50');
    await archiveNow(l);
    const archive = join(l.dir, 'archive');
    const expect = (n: number) => [
      { query: 'SELECT count(*) FROM events', equals: n },
      { query: 'SELECT count(*) FROM events WHERE id <= 50', equals: 50 },
    ];
    const scratchDir = dir('scratch');
    const byName = await run(pitr, l, {
      storage,
      archive,
      target: { name: 'before-batch-2' },
      expect: expect(100),
      scratchDir,
    });
    assert.match(String(byName.stoppedAt), /recovery stopping at restore point "before-batch-2"/);
    const byLsn = await run(pitr, l, {
      storage,
      archive,
      target: { lsn: mid!.lsn },
      expect: expect(200),
      scratchDir,
    });
    t.diagnostic(
      `pitr: restore point ${point!.lsn} usable after ${String(byName.timeToUsableMs)} ms; LSN ${mid!.lsn} after ${String(byLsn.timeToUsableMs)} ms`,
    );
    // What came after the target is absent: the check fails when it expects it.
    const wrong = await failureOf(
      run(pitr, l, { storage, archive, target: { name: 'before-batch-2' }, expect: expect(200), scratchDir }),
    );
    assert.match(wrong.message, /SELECT count\(\*\) FROM events gave 100, expected 200/);
    assert.deepEqual(await assertNoScratch(scratchDir, undefined), []);
  });

  test('pitr with a WAL segment missing from the archive stops and names the segment', async (t) => {
    const l = lab(t);
    if (!l) return;
    const store = dir('pitr-gap');
    const storage = { type: 'local', path: store };
    await sql(l, 'CREATE TABLE IF NOT EXISTS events (id int PRIMARY KEY)');
    await run(backup, l, { storage });
    // The backup carries the WAL of its own segment: the gap must be a later segment.
    await archiveNow(l);
    await sql(l, 'INSERT INTO events SELECT coalesce(max(id), 0) + 1 FROM events');
    const gapFile = await archiveNow(l);
    await sql(l, `SELECT pg_create_restore_point('after-gap')`);
    await archiveNow(l);
    // A copy of the archive without the segment after the backup.
    const archive = dir('archive-copy', true);
    for (const f of readdirSync(join(l.dir, 'archive')).filter((x) => x !== gapFile)) {
      copyFileSync(join(l.dir, 'archive', f), join(archive, f));
      chmodSync(join(archive, f), 0o644); // PostgreSQL's user reads what root copied
    }
    const err = await failureOf(
      run(pitr, l, { storage, archive, target: { name: 'after-gap' }, scratchDir: dir('scratch') }),
    );
    assert.ok(err instanceof StepFailure);
    assert.equal(
      err.message,
      `recovery ended before reaching the target: WAL segment ${gapFile} is not in the archive ${archive}`,
    );
  });

  test('verify backup-age: passes with a recent verified backup, fails when too old or when there is none', async (t) => {
    const l = lab(t);
    if (!l) return;
    const store = dir('age');
    const none = await failureOf(
      run(verify, l, { check: 'backup-age', maxAge: '1h', storage: { type: 'local', path: store } }),
    );
    assert.match(none.message, /no verified backup in /);
    const out = await run(backup, l, { storage: { type: 'local', path: store } });
    const ok = await run(verify, l, {
      check: 'backup-age',
      maxAge: '1h',
      catalog: join(store, 'catalog.json'),
    });
    assert.equal(ok.label, out.label);
    await new Promise((r) => setTimeout(r, 20));
    const old = await failureOf(
      run(verify, l, { check: 'backup-age', maxAge: '10ms', storage: { type: 'local', path: store } }),
    );
    assert.match(old.message, new RegExp(`newest verified backup ${String(out.label)} .* old, limit 10ms`));
  });

  test('S3 (s3rver): each file stored under bucket/prefix/label with its size; the restore test reads it back; retention deletes it', async (t) => {
    const l = lab(t);
    if (!l) return;
    const s3 = await localS3();
    t.after(() => s3.close());
    const storage = s3.storage('lab7');
    await items(l);
    const out = await run(backup, l, { storage, tables: ['items'] });
    const catalog = JSON.parse((await fetchObject(s3, 'lab7/catalog.json')).toString()) as Catalog;
    const entry = catalog.backups[0]!;
    for (const f of entry.files) {
      const stored = await fetchObject(s3, `lab7/${out.label}/${f.name}`);
      assert.equal(stored.length, f.size, `size of ${f.name}`);
      assert.equal(createHash('sha256').update(stored).digest('hex'), f.sha256, `SHA-256 of ${f.name}`);
    }
    const restored = await run(restoreTest, l, { storage, scratchDir: dir('scratch') });
    assert.equal(restored.label, out.label);
    assert.equal(restored.tablesChecked, 1);
    // Retention over S3 lists and deletes the old backup's keys.
    const second = await run(backup, l, { storage, keep: 1 });
    assert.deepEqual(second.removed, [out.label]);
    assert.ok(
      s3.requests.some((r) => r.method === 'POST' && /^\/backups\/?\?delete/.test(r.url)),
      'the old backup went in a DeleteObjects',
    );
    await assert.rejects(fetchObject(s3, `lab7/${out.label}/${entry.files[0]!.name}`), /NoSuchKey|404/);
  });

  test('SSH: pg_basebackup on the database host, stored in a directory of a lab host over SFTP', async (t) => {
    const l = lab(t);
    if (!l) return;
    const remote = dir('remote-store', true);
    const storage = { type: 'ssh', host: 'pg1', path: remote };
    const out = await run(backup, l, { on: 'ssh:pg1', storage, tables: ['items'] });
    const entry = catalogAt(remote).backups[0]!;
    assert.equal(entry.label, out.label);
    for (const f of entry.files) assert.equal(sha256(join(remote, entry.label, f.name)), f.sha256);
    const restored = await run(restoreTest, l, { storage, scratchDir: dir('scratch') });
    assert.equal(restored.tablesChecked, 1);
  });

  test('bad input: a missing program and an unwritable store are clear failures', async (t) => {
    const l = lab(t);
    if (!l) return;
    const missing = await failureOf(
      run(backup, l, { storage: { type: 'local', path: dir('x') }, binDir: '/nonexistent/bin' }),
    );
    assert.ok(missing instanceof UserError);
    assert.match(missing.message, /pg_basebackup not found in \/nonexistent\/bin \(binDir\)/);
    // The store is read before the backup starts: an unusable one costs no backup time.
    const unwritable = await failureOf(
      run(backup, l, { storage: { type: 'local', path: '/etc/hostname/backups' } }),
    );
    assert.ok(unwritable instanceof StepFailure);
    assert.match(
      unwritable.message,
      /^backup store \/etc\/hostname\/backups: cannot read \/etc\/hostname\/backups\/catalog\.json: ENOTDIR/,
    );
    // A store that reads but refuses writes: found before the backup, nothing is stored, the failure names where.
    const readOnly = dir('read-only');
    const undo = makeReadOnly(readOnly);
    t.after(undo);
    const blocked = await failureOf(run(backup, l, { storage: { type: 'local', path: readOnly } }));
    undo();
    assert.ok(blocked instanceof StepFailure);
    assert.match(
      blocked.message,
      /^backup store .*read-only-\d+: cannot write into .*\/read-only-\d+: E(PERM|ACCES)/,
    );
    assert.deepEqual(readdirSync(readOnly), []);
  });

  test('a scratch instance left by a killed run is stopped and removed by the next one', async (t) => {
    const l = lab(t);
    if (!l) return;
    const store = dir('stale');
    const scratchDir = dir('scratch');
    await run(backup, l, { storage: { type: 'local', path: store } });
    // What a SIGKILLed run leaves: a running instance whose owner is gone.
    const ctrl = new AbortController();
    const tools = pgTools(undefined, 'test', ctrl.signal);
    const orphan = await createScratch(tools, scratchDir, ctrl.signal);
    await tools.run('initdb', ['-D', orphan.data, '--no-sync', '-A', 'trust'], { as: orphan.user });
    orphan.configure({});
    await orphan.start(60);
    const pid = orphan.pid();
    assert.ok(pid);
    writeFileSync(join(orphan.dir, 'owner.json'), JSON.stringify({ pid: 999_999_999, started: '0' }));
    const out = await run(restoreTest, l, { storage: { type: 'local', path: store }, scratchDir });
    assert.deepEqual(await assertNoScratch(scratchDir, Number(out.port)), []);
    assert.ok(
      !existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'),
      'orphan postmaster stopped',
    );
  });
});
