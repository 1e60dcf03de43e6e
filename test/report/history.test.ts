// History across runs: grouping per drill and per runbook, pass rate, the regression flag (latest
// RTO > 120% of the median before it), the terminal table and reports/index.html.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { historyHtml, historyTable, loadHistory, median, regressionOf } from '../../src/report/history.js';
import type { Report } from '../../src/report/schema.js';
import { writeReportFiles } from '../../src/report/write.js';
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
