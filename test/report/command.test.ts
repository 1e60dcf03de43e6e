// `drillbook report RUN_ID` re-renders a run's reports from its journal alone; `--history` writes
// reports/index.html and prints the trend; bad input is exit 2.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli, tempDir } from '../engine/helpers.js';
import { allKindsRun } from './backup-journals.js';
import { FIXTURES } from './fixtures.js';

test('drillbook report RUN_ID, --format, --out, --history', async (t) => {
  const cwd = tempDir(t);
  const ids = {
    drill: '20250303-020000-pg-failover-e5f6',
    failed: '20250302-030405-pg-failover-c3d4',
  };
  for (const [name, id] of Object.entries(ids)) {
    mkdirSync(join(cwd, '.drillbook/runs', id), { recursive: true });
    copyFileSync(FIXTURES[name as keyof typeof ids], join(cwd, '.drillbook/runs', id, 'journal.jsonl'));
  }

  const all = await runCli(t, ['report', ids.drill], { cwd });
  assert.equal(all.code, 0, all.stderr);
  const dir = join(cwd, 'reports', `2025-03-03-pg-failover-${ids.drill}`);
  assert.match(
    all.stdout,
    new RegExp(`report of ${ids.drill}: reports/2025-03-03-pg-failover-${ids.drill}/`),
  );
  assert.deepEqual(readdirSync(dir).sort(), [
    'junit.xml',
    'metrics.prom',
    'report.html',
    'report.json',
    'report.md',
  ]);
  assert.equal(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')).drill.verdict, 'fail');

  const some = await runCli(t, ['report', ids.failed, '--format', 'md,junit', '--out', 'elsewhere'], { cwd });
  assert.equal(some.code, 0, some.stderr);
  assert.deepEqual(readdirSync(join(cwd, 'elsewhere', `2025-03-02-pg-failover-${ids.failed}`)).sort(), [
    'junit.xml',
    'report.md',
  ]);

  await runCli(t, ['report', ids.failed], { cwd });
  // A backup run's journal, written as the journal writer would: the history gets its backups.
  const backups = allKindsRun();
  const backupDir = join(cwd, '.drillbook/runs', backups.header.runId);
  mkdirSync(backupDir, { recursive: true });
  writeFileSync(
    join(backupDir, 'journal.jsonl'),
    [backups.header, ...backups.events].map((e) => JSON.stringify(e) + '\n').join(''),
  );
  assert.equal((await runCli(t, ['report', backups.header.runId], { cwd })).code, 0);
  const history = await runCli(t, ['report', '--history'], { cwd });
  assert.equal(history.code, 0, history.stderr);
  assert.match(history.stdout, /drill monthly-failover \(pg-failover on lab\): 1 run\(s\), pass rate 0%/);
  assert.match(history.stdout, /runbook pg-failover on lab: 1 run\(s\), pass rate 0%/);
  assert.match(
    history.stdout,
    /backups on lab: 1 backup\(s\); newest verified base-20250410T010000Z .* old; 2 restore\(s\), 1 failed/,
  );
  assert.ok(existsSync(join(cwd, 'reports', 'index.html')));
  assert.match(readFileSync(join(cwd, 'reports', 'index.html'), 'utf8'), /<h2>Backups on lab<\/h2>/);

  assert.equal((await runCli(t, ['report', 'no-such-run'], { cwd })).code, 2);
  const bad = await runCli(t, ['report', ids.drill, '--format', 'pdf'], { cwd });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown report format\(s\) "pdf"/);
  assert.equal((await runCli(t, ['report'], { cwd })).code, 2);
});
