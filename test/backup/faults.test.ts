// Faults around backups, on a private lab with WAL archiving (slot 15): a full backup store disk, a
// full WAL archive disk, a base backup changed where only pg_verifybackup can see it, and stores
// that cannot be reached. Each is one clear failure that names the cause, and the last good backup
// survives it. The disks are small tmpfs mounts (the tests run as
// root), always unmounted before the lab goes down, whatever failed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, describe, test, type TestContext } from 'node:test';
import { backup } from '../../src/actions/backup.js';
import { pitr } from '../../src/actions/pitr.js';
import { restoreTest } from '../../src/actions/restore-test.js';
import { verify } from '../../src/actions/verify.js';
import type { Catalog } from '../../src/backup/catalog.js';
import { pollUntil } from '../../src/connectors/poll.js';
import { StepFailure } from '../../src/errors.js';
import { findPgBinDir } from '../../src/system/binaries.js';
import { isRoot, serviceUser } from '../../src/system/os-user.js';
import { portAnswers } from '../../src/system/ports.js';
import type { Environment } from '../../src/schema/inventory.js';
import { actionContext } from '../helpers/action-context.js';
import { privateLab } from '../helpers/private-lab.js';
import { archiveNow, assertNoScratch, items, sql, tempDirs } from './fixture.js';
import { s3Stub } from './s3-stub.js';

const run = <I>(
  action: { run?: (ctx: never, input: never) => Promise<Record<string, unknown>> },
  env: Environment,
  input: I,
) => action.run!(actionContext(env) as never, input as never);
const failureOf = (p: Promise<unknown>) =>
  p.then(
    () => assert.fail('expected a failure'),
    (err: unknown) => err as Error,
  );
const catalogAt = (dir: string) => JSON.parse(readFileSync(join(dir, 'catalog.json'), 'utf8')) as Catalog;
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** Slot 15's ports are 16550..16555; these two nobody listens on. */
const CLOSED_SSH_PORT = 16558;
const CLOSED_S3_PORT = 16559;

/** Mounts (as root) are undone by whoever comes first: the test's finally or this file's after(). */
const mounted = new Set<string>();
function unmount(dir: string): void {
  if (!mounted.delete(dir)) return;
  try {
    execFileSync('umount', [dir]);
  } catch {
    execFileSync('umount', ['-l', dir]); // busy (a process still in it): detach now, free when done
  }
}
function mountTmpfs(dir: string, options: string): () => void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  mounted.add(dir);
  return () => unmount(dir);
}
/** Takes all the free space of a file system but `leaveBytes` into one file; returns its path. */
function fill(dir: string, leaveBytes: number): string {
  const { bavail, bsize } = statfsSync(dir);
  const file = join(dir, 'fill');
  execFileSync('fallocate', ['-l', String(Math.max(bavail * bsize - leaveBytes, bsize)), file]);
  return file;
}
/** Mounting needs root: outside CI the test skips without it, in CI it fails. */
function needRoot(t: TestContext): boolean {
  if (isRoot()) return true;
  if (process.env.CI === 'true') throw new Error('the fault tests mount tmpfs and need root');
  t.skip('needs root to mount tmpfs');
  return false;
}

describe('backup faults: full disks and unreachable stores', () => {
  // Registered before the lab's hooks, so it runs before the lab goes down and its directory goes.
  after(() => {
    for (const dir of [...mounted].reverse()) unmount(dir);
  });
  const lab = privateLab(15, { archive: true, archiveTimeout: '1s', replicas: 0 });
  const dir = tempDirs('drillbook-faults-test-');

  test('a full store disk: the second backup fails naming ENOSPC and the path, leaves no files, and the first stays listed and restores', async (t) => {
    const l = lab(t);
    if (!l || !needRoot(t)) return;
    await items(l);
    const store = dir('full-store');
    const undo = mountTmpfs(store, 'size=64m,mode=0755');
    try {
      const storage = { type: 'local', path: store };
      const first = await run(backup, l.environment, { storage, tables: ['items'], keep: 1 });
      // Room for the manifest and the catalog, not for base.tar.gz: the failure comes midway.
      const manifest = catalogAt(store).backups[0]!.files.find((f) => f.name === 'backup_manifest')!;
      fill(store, manifest.size + 64 * 1024);
      const err = await failureOf(run(backup, l.environment, { storage, tables: ['items'], keep: 1 }));
      assert.ok(err instanceof StepFailure);
      assert.match(
        err.message,
        new RegExp(
          `^backup store ${esc(store)}: cannot write ${esc(store)}/base-\\d{8}T\\d{9}Z/base\\.tar\\.gz: ENOSPC: no space left on device$`,
        ),
      );
      // The last good backup is still listed and whole; nothing of the failed one is left.
      assert.deepEqual(
        catalogAt(store).backups.map((b) => b.label),
        [first.label],
      );
      assert.deepEqual(readdirSync(store).sort(), [String(first.label), 'catalog.json', 'fill'].sort());
      assert.deepEqual(readdirSync(join(store, String(first.label))).sort(), [
        'backup_manifest',
        'base.tar.gz',
        'pg_wal.tar.gz',
      ]);
      const restored = await run(restoreTest, l.environment, { storage, scratchDir: dir('scratch') });
      assert.equal(restored.label, first.label);
      assert.equal(restored.tablesChecked, 1);
      assert.deepEqual(
        catalogAt(store).backups[0]!.restoreTests?.map((r) => r.ok),
        [true],
      );
    } finally {
      undo();
    }
  });

  test('a full WAL archive disk: verify archiving names the segment, pitr past it names it too; with space again the archiver catches up', async (t) => {
    const l = lab(t);
    if (!l || !needRoot(t)) return;
    const archive = join(l.dir, 'archive');
    const u = serviceUser();
    const undo = mountTmpfs(archive, `size=160m,mode=0700,uid=${u.uid},gid=${u.gid}`);
    try {
      const storage = { type: 'local', path: dir('pitr-store') };
      await sql(l, 'CREATE TABLE IF NOT EXISTS events (id int PRIMARY KEY)');
      await sql(l, 'TRUNCATE events');
      await run(backup, l.environment, { storage });
      await archiveNow(l);
      const healthy = await run(verify, l.environment, { check: 'archiving' });
      assert.match(String(healthy.lastArchivedWal), /^[0-9A-F]{24}/);

      const fillFile = fill(archive, 0);
      await sql(l, 'INSERT INTO events SELECT generate_series(1, 100)');
      await sql(l, `SELECT pg_create_restore_point('past-the-archive')`);
      const [switched] = await sql<{ file: string }>(l, 'SELECT pg_walfile_name(pg_switch_wal()) AS file');
      const failure = await pollUntil(
        () =>
          run(verify, l.environment, { check: 'archiving' }).then(
            () => undefined,
            (err: unknown) => err as Error,
          ),
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      assert.ok(failure instanceof StepFailure, 'archiving failed within 30 s');
      const [stat] = await sql<{ last_failed_wal: string; last_archived_wal: string; failed_count: string }>(
        l,
        'SELECT last_failed_wal, last_archived_wal, failed_count FROM pg_stat_archiver',
      );
      const segment = stat!.last_failed_wal;
      assert.ok(segment <= switched!.file, `${segment} is at or before the switched ${switched!.file}`);
      assert.match(
        failure.message,
        new RegExp(
          `^${l.environment.primary}: WAL archiving is failing: segment ${segment} could not be archived, last tried at \\S+Z \\([^)]+ ago\\); last archived ${stat!.last_archived_wal} at \\S+Z \\([^)]+ ago\\); \\d+ failed attempts in all$`,
        ),
      );
      assert.ok(!existsSync(join(archive, segment)));
      // The archive lacks the segment of the target: recovery stops there and says which one.
      const gap = await failureOf(
        run(pitr, l.environment, {
          storage,
          archive,
          target: { name: 'past-the-archive' },
          scratchDir: dir('scratch'),
        }),
      );
      assert.ok(gap instanceof StepFailure);
      assert.equal(
        gap.message,
        `recovery ended before reaching the target: WAL segment ${segment} is not in the archive ${archive}`,
      );

      // Space again; a write and a switch wake the archiver, which catches up in order.
      rmSync(fillFile);
      await sql(l, 'INSERT INTO events VALUES (101)');
      await archiveNow(l);
      const ok = await run(verify, l.environment, { check: 'archiving' });
      assert.ok(Number(ok.failedCount) >= 1);
      assert.ok(String(ok.lastArchivedTime) > String(ok.lastFailedTime));
      assert.deepEqual(
        readdirSync(archive).filter((f) => f.includes('.tmp.')),
        [],
        'failed copies leave no temporary files',
      );
      const reached = await run(pitr, l.environment, {
        storage,
        archive,
        target: { name: 'past-the-archive' },
        expect: [{ query: 'SELECT count(*) FROM events', equals: 100 }],
        scratchDir: dir('scratch'),
      });
      assert.match(String(reached.stoppedAt), /restore point "past-the-archive"/);
      t.diagnostic(`archiving failed at ${segment} (${stat!.failed_count} failed attempts), then caught up`);
    } finally {
      undo();
    }
  });

  test('a file changed inside a whole, re-packed base.tar.gz (checksum forged): pg_verifybackup catches it, the restore test fails and records it', async (t) => {
    const l = lab(t);
    if (!l) return;
    const store = dir('tampered');
    const storage = { type: 'local', path: store };
    const out = await run(backup, l.environment, { storage });
    // Same size, other bytes, in a tar.gz that extracts cleanly: only the manifest can tell.
    const file = join(store, String(out.label), 'base.tar.gz');
    const unpacked = dir('unpacked');
    execFileSync('tar', ['-xzf', file, '-C', unpacked]);
    const version = readFileSync(join(unpacked, 'PG_VERSION'), 'utf8');
    writeFileSync(
      join(unpacked, 'PG_VERSION'),
      version.replace(/\d/, (d) => String((Number(d) + 1) % 10)),
    );
    execFileSync('tar', ['-czf', file, '-C', unpacked, '.']);
    const catalog = catalogAt(store);
    catalog.backups[0]!.files.find((f) => f.name === 'base.tar.gz')!.sha256 = createHash('sha256')
      .update(readFileSync(file))
      .digest('hex');
    writeFileSync(join(store, 'catalog.json'), JSON.stringify(catalog));
    const scratchDir = dir('scratch');
    const err = await failureOf(run(restoreTest, l.environment, { storage, scratchDir }));
    assert.ok(err instanceof StepFailure);
    assert.match(
      err.message,
      new RegExp(
        `^backup ${String(out.label)} does not match its manifest: pg_verifybackup failed: [^]*checksum mismatch for file "PG_VERSION"`,
      ),
    );
    assert.deepEqual(await assertNoScratch(scratchDir, undefined), []);
    const [record] = catalogAt(store).backups[0]!.restoreTests!;
    assert.equal(record!.ok, false);
    assert.match(record!.error!, /does not match its manifest/);
  });

  test('unreachable stores (read-only mount, refused SSH port, refused S3 endpoint, S3 refusing writes): backup fails fast before pg_basebackup, restore-test fails, nothing written', async (t) => {
    const l = lab(t);
    if (!l || !needRoot(t)) return;
    for (const port of [CLOSED_SSH_PORT, CLOSED_S3_PORT]) {
      assert.equal(await portAnswers(l.environment.postgres.nodes.pg1!.host, port), false, `${port} closed`);
    }
    // The real programs, but pg_basebackup leaves a mark when it runs.
    const real = findPgBinDir(undefined);
    const bin = dir('bin');
    const mark = join(dir('marks'), 'pg_basebackup-ran');
    for (const f of readdirSync(real)) symlinkSync(join(real, f), join(bin, f));
    rmSync(join(bin, 'pg_basebackup'));
    writeFileSync(
      join(bin, 'pg_basebackup'),
      `#!/bin/sh\ntouch '${mark}'\nexec '${join(real, 'pg_basebackup')}' "$@"\n`,
    );
    chmodSync(join(bin, 'pg_basebackup'), 0o755);
    execFileSync(join(bin, 'pg_basebackup'), ['--version']);
    assert.ok(existsSync(mark), 'the wrapper marks');
    rmSync(mark);

    const readOnly = dir('read-only');
    const undo = mountTmpfs(readOnly, 'ro,size=1m,mode=0755');
    const pg1 = l.environment.ssh!.pg1!;
    const host = pg1.host;
    // The same host key pinned for the closed port: the connection is refused, not the key.
    const knownHosts = join(dir('ssh'), 'known_hosts');
    const pinned = readFileSync(pg1.knownHosts, 'utf8').replaceAll(
      `[${host}]:${pg1.port}`,
      `[${host}]:${CLOSED_SSH_PORT}`,
    );
    assert.match(pinned, new RegExp(esc(`[${host}]:${CLOSED_SSH_PORT}`)));
    writeFileSync(knownHosts, pinned);
    process.env.DRILLBOOK_TEST_S3_KEY = 'AKIDEXAMPLE';
    process.env.DRILLBOOK_TEST_S3_SECRET = 'not-a-real-secret';
    const s3 = await s3Stub({ readOnly: true });
    t.after(() => s3.close());
    const cases = [
      {
        name: 'read-only mount',
        env: l.environment,
        storage: { type: 'local', path: join(readOnly, 'backups') },
        backup: new RegExp(
          `^backup store ${esc(readOnly)}/backups: cannot create ${esc(readOnly)}/backups: EROFS: read-only file system$`,
        ),
        restore: new RegExp(
          `^no verified backup in ${esc(readOnly)}/backups/catalog\\.json \\(0 entries\\)$`,
        ),
      },
      {
        name: 'refused SSH port',
        env: {
          ...l.environment,
          ssh: { ...l.environment.ssh, vault: { ...pg1, port: CLOSED_SSH_PORT, knownHosts } },
        },
        storage: { type: 'ssh', host: 'vault', path: '/var/backups/drillbook' },
        backup: new RegExp(
          `^backup store vault:/var/backups/drillbook: cannot connect: ssh vault \\(\\[${esc(host)}\\]:${CLOSED_SSH_PORT}\\): .*ECONNREFUSED`,
        ),
        restore: new RegExp(`^backup store vault:/var/backups/drillbook: cannot connect: .*ECONNREFUSED`),
      },
      {
        name: 'refused S3 endpoint',
        env: l.environment,
        storage: {
          type: 's3',
          bucket: 'backups',
          prefix: 'lab15',
          endpoint: `http://${host}:${CLOSED_S3_PORT}`,
          accessKeyId: 'env:DRILLBOOK_TEST_S3_KEY',
          secretAccessKey: 'env:DRILLBOOK_TEST_S3_SECRET',
        },
        backup: /^backup store s3:\/\/backups\/lab15: GET lab15\/catalog\.json failed: .*ECONNREFUSED/,
        restore: /^backup store s3:\/\/backups\/lab15: GET lab15\/catalog\.json failed: .*ECONNREFUSED/,
      },
      {
        // The catalog reads (as an empty store); the write probe is what is refused.
        name: 'S3 refusing writes',
        env: l.environment,
        storage: {
          type: 's3',
          bucket: 'backups',
          prefix: 'lab15',
          endpoint: s3.url,
          accessKeyId: 'env:DRILLBOOK_TEST_S3_KEY',
          secretAccessKey: 'env:DRILLBOOK_TEST_S3_SECRET',
        },
        backup: new RegExp(
          `^backup store s3://backups/lab15: PUT lab15/\\.drillbook-probe-${process.pid} failed: AccessDenied: Access Denied \\(HTTP 403\\)$`,
        ),
        restore: /^no verified backup in s3:\/\/backups\/lab15\/catalog\.json \(0 entries\)$/,
      },
    ];
    try {
      for (const c of cases) {
        const workDir = dir('work');
        const t0 = performance.now();
        const err = await failureOf(
          run(backup, c.env, { storage: c.storage, binDir: bin, workDir, keep: 1 }),
        );
        const ms = Math.round(performance.now() - t0);
        assert.ok(err instanceof StepFailure, `${c.name}: ${err.name}`);
        assert.match(err.message, c.backup, c.name);
        assert.ok(!err.message.includes('\n'), `${c.name}: one line`);
        assert.ok(ms < 20_000, `${c.name}: failed after ${ms} ms`);
        assert.ok(!existsSync(mark), `${c.name}: pg_basebackup did not run`);
        assert.deepEqual(readdirSync(workDir), [], `${c.name}: no staging left`);
        const scratchDir = dir('scratch');
        const restore = await failureOf(run(restoreTest, c.env, { storage: c.storage, scratchDir }));
        assert.ok(restore instanceof StepFailure, `${c.name}: restore-test ${restore.name}`);
        assert.match(restore.message, c.restore, `${c.name}: restore-test`);
        assert.deepEqual(await assertNoScratch(scratchDir, undefined), []);
        t.diagnostic(`${c.name}: backup failed in ${ms} ms: ${err.message}`);
      }
      assert.deepEqual(readdirSync(readOnly), []);
      assert.deepEqual([...s3.objects.keys()], [], 'nothing stored in S3');
    } finally {
      undo();
    }
  });
});
