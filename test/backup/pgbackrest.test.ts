// The pgbackrest backup tool against a private lab made with `--backup-tool pgbackrest` (slot 17):
// the real pgBackRest 2.45 of this machine, its repository on local disk under the lab directory.
// The stanza, full and incremental backups read back from `pgbackrest info`, a restore test, PITR
// to a time, `pgbackrest verify` on a corrupted repository file (it exits 0; the check must fail),
// and the bad input: an unknown stanza, a recovery target before the backup.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { backup } from '../../src/actions/backup.js';
import { pitr } from '../../src/actions/pitr.js';
import { restoreTest } from '../../src/actions/restore-test.js';
import { verify } from '../../src/actions/verify.js';
import { readRepository, repositoryOf } from '../../src/backup/pgbackrest.js';
import { UserError } from '../../src/errors.js';
import { serviceUser } from '../../src/system/os-user.js';
import type { Environment } from '../../src/schema/inventory.js';
import { actionContext } from '../helpers/action-context.js';
import { privateLab, type PrivateLab } from '../helpers/private-lab.js';
import { assertNoScratch, sql, tempDirs } from './fixture.js';

const run = (action: { run?: unknown }, env: Environment, input: Record<string, unknown>) =>
  (action.run as (ctx: unknown, input: unknown) => Promise<Record<string, unknown>>)(
    actionContext(env),
    input,
  );
const failureOf = (p: Promise<unknown>) =>
  p.then(
    () => assert.fail('expected a failure'),
    (err: unknown) => err as Error,
  );
/** pgbackrest as the user that owns the repository; its exit status is the test's to see. */
function pgbackrestAsService(args: string[]): string {
  const user = serviceUser();
  const argv =
    process.getuid?.() === 0
      ? ['runuser', '-u', user.name, '--', 'pgbackrest', ...args]
      : ['pgbackrest', ...args];
  return execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
}

describe('backups with pgBackRest', () => {
  const lab = privateLab(17, { archive: true, archiveTimeout: '10s', backupTool: 'pgbackrest', replicas: 0 });
  const dir = tempDirs('drillbook-pgbackrest-test-');
  const env = (l: PrivateLab) => l.environment;

  test('lab up --backup-tool pgbackrest: a stanza whose archive-push archives, named in the inventory', async (t) => {
    const l = lab(t);
    if (!l) return;
    const b = l.environment.backups!;
    assert.equal(b.tool, 'pgbackrest');
    assert.equal(b.stanza, 'lab');
    assert.equal(b.config, join(l.dir, 'pgbackrest', 'pgbackrest.conf'));
    assert.match(
      readFileSync(b.config!, 'utf8'),
      new RegExp(`repo1-path=${join(l.dir, 'pgbackrest', 'repo')}`),
    );
    const [setting] = await sql<{ archive_command: string }>(l, 'SHOW archive_command');
    assert.match(
      setting!.archive_command,
      /^pgbackrest '--config=.*' '--stanza=lab' '--pg1-path=.*' archive-push "%p"$/,
    );
    const info = JSON.parse(pgbackrestAsService([`--config=${b.config}`, '--output=json', 'info'])) as {
      name: string;
      archive: { max: string }[];
    }[];
    assert.deepEqual(
      info.map((s) => s.name),
      ['lab'],
    );
    // `pgbackrest check` in lab up switched WAL and waited for it: the repository has WAL already.
    assert.ok(info[0]!.archive[0]?.max, 'WAL in the repository');
    assert.deepEqual(await readRepository(repositoryOf({ ...env(l), name: 'lab' }, 'test')), []);
  });

  test('backup full then incr: each a new set read back from pgbackrest info; backup-age reads it', async (t) => {
    const l = lab(t);
    if (!l) return;
    await sql(l, 'CREATE TABLE IF NOT EXISTS items (id int PRIMARY KEY, v text)');
    await sql(
      l,
      'INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 5000) g ON CONFLICT DO NOTHING',
    );
    const full = await run(backup, env(l), { type: 'full' });
    assert.equal(full.method, 'pgbackrest');
    assert.equal(full.type, 'full');
    assert.match(String(full.label), /^\d{8}-\d{6}F$/);
    assert.ok(Number(full.sizeBytes) > 1_000_000, `size ${String(full.sizeBytes)}`);
    assert.match(String(full.stopLsn), /^[0-9A-F]+\/[0-9A-F]+$/);
    await sql(l, 'INSERT INTO items SELECT g, md5(g::text) FROM generate_series(5001, 6000) g');
    const incr = await run(backup, env(l), { type: 'incr' });
    assert.equal(incr.type, 'incr');
    assert.match(String(incr.label), new RegExp(`^${String(full.label)}_\\d{8}-\\d{6}I$`));
    const sets = await readRepository(repositoryOf({ ...env(l), name: 'lab' }, 'test'));
    assert.deepEqual(
      sets.map((s) => [s.label, s.type]),
      [
        [full.label, 'full'],
        [incr.label, 'incr'],
      ],
    );
    const age = await run(verify, env(l), { check: 'backup-age', maxAge: '1h' });
    assert.equal(age.label, incr.label);
    assert.match(String(age.method), /pgbackrest incr/);
    t.diagnostic(
      `full ${String(full.sizeBytes)} bytes in ${String(full.makeMs)} ms, incr in ${String(incr.makeMs)} ms`,
    );
  });

  test('restore-test restores the newest set into a scratch instance, checks it and removes it', async (t) => {
    const l = lab(t);
    if (!l) return;
    const scratchDir = dir('scratch');
    const [newest] = (await readRepository(repositoryOf({ ...env(l), name: 'lab' }, 'test'))).slice(-1);
    assert.ok(newest, 'a backup set from the test before');
    const out = await run(restoreTest, env(l), { scratchDir });
    assert.equal(out.label, newest.label);
    assert.equal(out.method, 'pgbackrest');
    assert.ok(Number(out.timeToUsableMs) > 0);
    assert.equal(typeof out.indexesChecked === 'number' || out.indexesChecked === 'unavailable', true);
    assert.deepEqual(await assertNoScratch(scratchDir, Number(out.port)), []);
    t.diagnostic(`usable after ${String(out.timeToUsableMs)} ms`);
  });

  test('pitr to a time restores exactly the rows committed before it', async (t) => {
    const l = lab(t);
    if (!l) return;
    await run(backup, env(l), { type: 'incr' });
    await sql(l, 'CREATE TABLE pitr_rows (id int PRIMARY KEY)');
    await sql(l, 'INSERT INTO pitr_rows SELECT generate_series(1, 100)');
    await new Promise((r) => setTimeout(r, 1100));
    const [at] = await sql<{ t: string }>(
      l,
      `SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00' AS t`,
    );
    await new Promise((r) => setTimeout(r, 1100));
    await sql(l, 'INSERT INTO pitr_rows SELECT generate_series(101, 150)');
    const scratchDir = dir('scratch');
    const out = await run(pitr, env(l), {
      target: { time: at!.t },
      switchWal: 'primary',
      expect: [
        { query: 'SELECT count(*) FROM pitr_rows', equals: 100 },
        { query: 'SELECT max(id) FROM pitr_rows', equals: 100 },
      ],
      scratchDir,
    });
    assert.match(String(out.stoppedAt), /recovery stopping before commit/);
    assert.deepEqual(out.target, { recovery_target_time: at!.t });
    assert.deepEqual(await assertNoScratch(scratchDir, undefined), []);
    t.diagnostic(`to ${at!.t}: usable after ${String(out.timeToUsableMs)} ms (${String(out.stoppedAt)})`);
  });

  test('a PITR target before the backup is refused in one line before anything starts', async (t) => {
    const l = lab(t);
    if (!l) return;
    const scratchDir = join(dir('scratch'), 'never');
    const sets = await readRepository(repositoryOf({ ...env(l), name: 'lab' }, 'test'));
    const early = await failureOf(
      run(pitr, env(l), { target: { time: '2000-01-01 00:00:00+00' }, scratchDir }),
    );
    assert.ok(early instanceof UserError, String(early));
    assert.equal(early.message.split('\n').length, 1);
    assert.match(
      early.message,
      new RegExp(
        `target time 2000-01-01 00:00:00\\+00 is before backup ${sets[0]!.label} ended .*the oldest of ${sets.length} backup`,
      ),
    );
    const newest = sets.at(-1)!;
    const byLsn = await failureOf(
      run(pitr, env(l), { target: { lsn: '0/1' }, label: newest.label, scratchDir }),
    );
    assert.ok(byLsn instanceof UserError);
    assert.match(
      byLsn.message,
      new RegExp(
        `target LSN 0/1 is before backup ${newest.label}'s consistency point \\(stop LSN ${newest.stopLsn}\\)`,
      ),
    );
    assert.equal(existsSync(scratchDir), false, 'no scratch instance was made');
  });

  test('an unknown stanza: the error names the stanzas the repository has; a stanza that is not a name is refused', async (t) => {
    const l = lab(t);
    if (!l) return;
    const other = { ...env(l), backups: { ...env(l).backups!, stanza: 'nope' } };
    for (const [action, input] of [
      [backup, { type: 'full' }],
      [restoreTest, { scratchDir: dir('scratch') }],
      [verify, { check: 'backup' }],
    ] as const) {
      const err = await failureOf(run(action, other, input));
      assert.ok(err instanceof UserError, String(err));
      assert.match(
        err.message,
        /stanza nope is not in the pgBackRest repository of .*pgbackrest\.conf; its stanzas: lab$/,
      );
    }
    const injected = { ...env(l), backups: { ...env(l).backups!, stanza: 'lab --repo1-path=/tmp' } };
    const err = await failureOf(run(backup, injected, { type: 'full' }));
    assert.ok(err instanceof UserError);
    assert.match(err.message, /is not a plain stanza name/);
  });

  test('verify check backup fails on a corrupted repository file although pgbackrest verify exits 0', async (t) => {
    const l = lab(t);
    if (!l) return;
    const ok = await run(verify, env(l), { check: 'backup' });
    assert.equal(ok.stanza, 'lab');
    const sets = await readRepository(repositoryOf({ ...env(l), name: 'lab' }, 'test'));
    const full = sets.find((s) => s.type === 'full')!;
    const setDir = join(l.dir, 'pgbackrest', 'repo', 'backup', 'lab', full.label, 'pg_data', 'base', '1');
    const victim = join(
      setDir,
      readdirSync(setDir)
        .filter((f) => f.endsWith('.lz4'))
        .sort()[0]!,
    );
    const saved = `${victim}.saved`;
    copyFileSync(victim, saved);
    try {
      const bytes = readFileSync(victim);
      bytes.write('corrupted by the test', 16);
      writeFileSync(victim, bytes);
      // pgBackRest itself reports success: the exit status alone would miss the corruption.
      pgbackrestAsService([`--config=${env(l).backups!.config}`, '--stanza=lab', 'verify']);
      const err = await failureOf(run(verify, env(l), { check: 'backup' }));
      assert.match(
        err.message,
        /pgbackrest verify of stanza lab found problems: .*(checksum invalid|invalid)/,
      );
      assert.match(err.message, new RegExp(full.label));
    } finally {
      copyFileSync(saved, victim);
      rmSync(saved);
    }
  });
});
