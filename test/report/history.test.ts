// History across runs: grouping per drill and per runbook, pass rate, the regression flag (latest
// RTO > 120% of the median before it), the terminal table and reports/index.html.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { backupHistory } from '../../src/report/backup-history.js';
import {
  historyGroups,
  historyHtml,
  historyTable,
  loadHistory,
  median,
  readReports,
  regressionOf,
} from '../../src/report/history.js';
import { buildReport } from '../../src/report/model.js';
import type { Report } from '../../src/report/schema.js';
import { writeReportFiles } from '../../src/report/write.js';
import { backupRun, restoreRun } from './backup-journals.js';
import { fixtureReport } from './fixtures.js';

function drillRun(day: number, rtoMs: number, verdict: 'pass' | 'fail' = 'pass'): Report {
  const r = fixtureReport('drill');
  r.run.id = `202503${String(day).padStart(2, '0')}-020000-pg-failover-${day}`;
  r.run.createdAt = `2025-03-${String(day).padStart(2, '0')}T02:00:00.000Z`;
  r.drill!.rto = { objective: 30_000, actual: rtoMs, met: rtoMs <= 30_000 };
  r.drill!.rpo = { objective: 0, actual: 0, met: true };
  r.drill!.verdict = verdict;
  return r;
}

function reportsDir(t: TestContext, reports: Report[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'drillbook-history-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const r of reports) writeReportFiles(r, dir, ['json']);
  return dir;
}

describe('report history', () => {
  test('median and regression: more than 20% above the median of the earlier runs', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
    assert.equal(regressionOf([1000]), undefined);
    assert.deepEqual(regressionOf([1000, 1100, 900, 1200]), {
      latestMs: 1200,
      medianMs: 1000,
      regressed: false,
    });
    assert.equal(regressionOf([1000, 1100, 900, 1201])!.regressed, true);
  });

  test('groups per drill and per runbook, pass rate, the flag on the latest run, index.html', (t) => {
    const failed = fixtureReport('failed');
    const ok = fixtureReport('succeeded');
    const dir = reportsDir(t, [
      drillRun(4, 5000),
      drillRun(5, 5200, 'fail'),
      drillRun(6, 4800),
      drillRun(7, 6400), // median of 5000, 5200, 4800 is 5000: +28%
      failed,
      ok,
    ]);
    // Not a report of ours: ignored.
    mkdirSync(join(dir, 'notes'));
    writeFileSync(join(dir, 'notes', 'report.json'), '{"hello":');
    const groups = loadHistory(dir);
    assert.deepEqual(
      groups.map((g) => [g.title, g.entries.length, g.passRate]),
      [
        ['drill monthly-failover (pg-failover on lab)', 4, 0.75],
        ['runbook pg-failover on lab', 2, 0.5],
      ],
    );
    const drill = groups[0]!;
    assert.deepEqual(drill.regression, { latestMs: 6400, medianMs: 5000, regressed: true });
    assert.deepEqual(
      drill.entries.map((e) => e.rtoMs),
      [5000, 5200, 4800, 6400],
    );
    // A failed run recovered nothing: its duration is no RTO, so it is not compared.
    assert.deepEqual(
      groups[1]!.entries.map((e) => [e.result, e.rtoMs]),
      [
        ['succeeded', 48_568],
        ['failed', undefined],
      ],
    );
    assert.equal(groups[1]!.regression, undefined);

    const table = historyTable(groups);
    assert.match(
      table,
      /drill monthly-failover \(pg-failover on lab\): 4 run\(s\), pass rate 75% — REGRESSION: latest RTO 6\.40s is 28% above the median 5\.00s/,
    );
    assert.match(
      table,
      /2025-03-07 02:00 {2}20250307-020000-pg-failover-7 {2}pass {4}6\.40s {2}30\.0s {6}0 {9}0/,
    );
    assert.match(table, /runbook pg-failover on lab: 2 run\(s\), pass rate 50%\n/);

    const html = historyHtml(groups);
    assert.ok(!/http|<link|<script|src=/i.test(html), 'self-contained');
    assert.match(html, /<svg class="trend"/);
    assert.match(html, /<a href="2025-03-07-pg-failover-20250307-020000-pg-failover-7\/report.html">/);
    assert.equal((html.match(/<circle /g) ?? []).length, 5, 'a point per run with an RTO');
  });

  test('backups and restores over time: sizes, throughput, time to usable, the newest verified backup’s age, the restore regression', (t) => {
    const dir = reportsDir(
      t,
      [
        restoreRun(6, { of: 3, timeToUsableMs: 30_000 }), // median of 20 s, 22 s is 21 s: +43%
        backupRun(1, { sizeBytes: 30_000_000, durationMs: 6000 }),
        backupRun(2, { error: 'pg_basebackup: could not connect to the primary' }),
        restoreRun(2, { of: 1, timeToUsableMs: 20_000 }),
        backupRun(3),
        restoreRun(4, { of: 3, timeToUsableMs: 22_000 }),
        restoreRun(5, { of: 3, error: 'public.accounts: 999 rows, 1000 at backup time' }),
      ].map(buildReport),
    );
    const now = Date.parse('2025-04-07T01:00:00.000Z');
    const [lab, ...others] = backupHistory(readReports(dir), now);
    assert.equal(others.length, 0, 'one environment');
    assert.equal(lab!.environment, 'lab');
    assert.deepEqual(
      lab!.backups.map((b) => [b.finishedAt.slice(0, 10), b.label, b.status, b.sizeBytes, b.bytesPerSecond]),
      [
        ['2025-04-01', 'base-20250401T010000Z', 'succeeded', 30_000_000, 5_000_000],
        ['2025-04-02', undefined, 'failed', undefined, undefined],
        ['2025-04-03', 'base-20250403T010000Z', 'succeeded', 40_000_000, 5_000_000],
      ],
    );
    const hours = (ms: number | undefined) => (ms === undefined ? undefined : Math.round(ms / 3_600_000));
    assert.deepEqual(
      lab!.restores.map((r) => [
        r.startedAt.slice(0, 10),
        r.status,
        r.timeToUsableMs,
        r.rtoMet,
        r.newestBackup?.label,
        hours(r.newestBackup?.ageMs),
      ]),
      [
        // The backup of day 2 failed: the newest verified one on day 2 is day 1's.
        ['2025-04-02', 'succeeded', 20_000, true, 'base-20250401T010000Z', 26],
        ['2025-04-04', 'succeeded', 22_000, true, 'base-20250403T010000Z', 26],
        ['2025-04-05', 'failed', undefined, false, 'base-20250403T010000Z', 50],
        ['2025-04-06', 'succeeded', 30_000, true, 'base-20250403T010000Z', 74],
      ],
    );
    // Ages are told from the recorded times alone.
    const first = lab!.restores[0]!;
    assert.equal(
      first.newestBackup!.ageMs,
      Date.parse(first.startedAt) - Date.parse(lab!.backups[0]!.finishedAt),
    );
    assert.equal(lab!.newestVerified?.label, 'base-20250403T010000Z');
    assert.equal(hours(lab!.newestVerified?.ageMs), 96);
    assert.deepEqual(lab!.regressions, [
      { kind: 'restore-test', latestMs: 30_000, medianMs: 21_000, regressed: true },
    ]);

    const groups = historyGroups(readReports(dir));
    const table = historyTable(groups, backupHistory(readReports(dir), now));
    assert.match(
      table,
      /backups on lab: 3 backup\(s\), 1 failed; newest verified base-20250403T010000Z \(2025-04-03 01:00\), 3d23h old; 4 restore\(s\), 1 failed — REGRESSION: latest restore-test time to usable 30\.0s is 43% above the median 21\.0s/,
    );
    assert.match(
      table,
      /2025-04-01 01:00 +20250401-010000-backup-full-b1 +base-20250401T010000Z +basebackup +30\.0 +6\.00s +5\.00 +yes +ok/,
    );
    assert.match(
      table,
      /2025-04-05 03:00 +20250405-030000-restore-test-r5 +restore-test +— +— +30m +MISSED +failed: public\.accounts: 999 rows.* +base-20250403T010000Z +2d1h/,
    );
    assert.match(
      table,
      /runbook restore-test on lab: 4 run\(s\), pass rate 75%/,
      'the runs are still listed as runs',
    );

    const html = historyHtml(groups, backupHistory(readReports(dir), now));
    assert.ok(!/http|<link|<script|src=/i.test(html), 'self-contained');
    assert.match(html, /<h2>Backups on lab<\/h2>\n<p class="missed">3 backup\(s\)/);
    assert.match(html, /<a href="2025-04-05-restore-test-20250405-030000-restore-test-r5\/report.html">/);
    assert.match(html, /<tr class="failed">.*<td class="missed">failed: pg_basebackup: could not connect/);
    assert.ok(html.indexOf('2025-04-02 03:00') < html.indexOf('2025-04-06 03:00'), 'restores in time order');
    assert.doesNotMatch(historyHtml(loadHistory(reportsDir(t, [drillRun(4, 5000)]))), /Backups on/);
  });

  test('a re-rendered run counts once; an empty directory has no history', (t) => {
    const dir = reportsDir(t, [drillRun(4, 5000)]);
    const copy = JSON.parse(
      readFileSync(join(dir, '2025-03-04-pg-failover-20250304-020000-pg-failover-4', 'report.json'), 'utf8'),
    );
    mkdirSync(join(dir, 'elsewhere'));
    writeFileSync(join(dir, 'elsewhere', 'report.json'), JSON.stringify(copy));
    assert.equal(loadHistory(dir)[0]!.entries.length, 1);
    assert.equal(historyTable(loadHistory(reportsDir(t, []))), 'no reports yet');
    assert.throws(() => loadHistory(join(dir, 'missing')), /no reports directory/);
  });
});
