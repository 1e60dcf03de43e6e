// The report's backups section from synthetic journals: the figures of backup, restore-test and
// pitr steps taken from their raw outputs (throughput computed), restore time against the RTO
// objective, failures with their error, and report.json against its schema.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { backupSummaryLines } from '../../src/report/backup-tables.js';
import { slackIcon } from '../../src/report/slack-header.js';
import { buildReport } from '../../src/report/model.js';
import { summaryBlocks } from '../../src/report/slack-run.js';
import { createAjv } from '../../src/runbook/validators.js';
import { age } from '../../src/report/text.js';
import { allKindsRun, backupRun, restoreRun, syntheticJournal } from './backup-journals.js';
import { fixtureReport } from './fixtures.js';

const validate = createAjv().compile(JSON.parse(readFileSync('schemas/report.schema.json', 'utf8')));
const valid = (r: unknown) => assert.deepEqual(validate(r) ? [] : validate.errors, []);

describe('report model: backups', () => {
  test('a backup: size, duration, throughput, verified, location, retention, LSNs from the raw outputs', () => {
    const r = buildReport(backupRun(1, { removed: ['base-20250320T010000Z'] }));
    assert.deepEqual(r.backups, {
      made: [
        {
          stepId: 'backup',
          status: 'succeeded',
          finishedAt: '2025-04-01T01:00:08.095Z',
          stepMs: 8030,
          budgetMs: 1_800_000,
          overBudget: false,
          label: 'base-20250401T010000Z',
          method: 'basebackup',
          sizeBytes: 40_000_000,
          durationMs: 8000,
          makeMs: 5000,
          verifyMs: 2000,
          storeMs: 1000,
          bytesPerSecond: 5_000_000,
          verified: true,
          location: '/var/backups/drillbook/base-20250401T010000Z',
          removed: ['base-20250320T010000Z'],
          startLsn: '0/2000028',
          stopLsn: '0/2000138',
        },
      ],
      restoreTests: [],
      pitr: [],
    });
    // The step table still has its one-line summaries.
    assert.equal(r.steps.find((s) => s.id === 'backup')!.outputs.sizeBytes, '40000000');
    valid(r);
    assert.deepEqual(buildReport(backupRun(1)), buildReport(backupRun(1)), 'deterministic');
  });

  test('a failed backup: the error, not verified, its method from the input', () => {
    const r = buildReport(
      backupRun(2, { error: 'pg_verifybackup: checksum mismatch for file "base/1/1259"' }),
    );
    const [made] = r.backups!.made;
    assert.equal(made!.status, 'failed');
    assert.equal(made!.verified, false);
    assert.equal(made!.method, 'basebackup');
    assert.match(made!.error!, /checksum mismatch/);
    assert.equal(made!.sizeBytes, undefined);
    assert.equal(made!.bytesPerSecond, undefined);
    valid(r);
  });

  test('a restore test: time to usable against the RTO objective, tables and indexes checked', () => {
    const met = buildReport(restoreRun(3, { of: 1, timeToUsableMs: 20_000 })).backups!;
    assert.deepEqual(met.made, []);
    const [t] = met.restoreTests;
    assert.deepEqual(
      {
        label: t!.label,
        timeToUsableMs: t!.timeToUsableMs,
        totalMs: t!.totalMs,
        tablesChecked: t!.tablesChecked,
        indexesChecked: t!.indexesChecked,
        backupAgeMs: t!.backupAgeMs,
        rto: t!.rto,
      },
      {
        label: 'base-20250401T010000Z',
        timeToUsableMs: 20_000,
        totalMs: 24_000,
        tablesChecked: 3,
        indexesChecked: 5,
        backupAgeMs: 50 * 3_600_000,
        rto: { objective: 1_800_000, actual: 20_000, met: true },
      },
    );
    const missed = buildReport(restoreRun(3, { of: 1, timeToUsableMs: 20_000, rtoMs: 15_000 }));
    assert.deepEqual(missed.backups!.restoreTests[0]!.rto, { objective: 15_000, actual: 20_000, met: false });
    valid(missed);

    const failed = buildReport(
      restoreRun(4, { of: 1, error: 'public.accounts: 999 rows, 1000 at backup time' }),
    );
    const [f] = failed.backups!.restoreTests;
    assert.equal(f!.status, 'failed');
    assert.match(f!.error!, /999 rows/);
    assert.deepEqual(f!.rto, { objective: 1_800_000, met: false }, 'a failed restore never met its RTO');
    valid(failed);
  });

  test('PITR: target, where it stopped, recovery time, checks; a failure keeps the target from its input', () => {
    const r = buildReport(allKindsRun());
    assert.equal(r.backups!.made.length, 1);
    assert.equal(r.backups!.restoreTests[0]!.rto?.met, false, '20 s against 15 s');
    const [p] = r.backups!.pitr;
    assert.deepEqual(p, {
      stepId: 'pitr',
      status: 'failed',
      error:
        'recovery ended before reaching the target: WAL segment 000000010000000000000003 is not in the archive /lab/archive',
      finishedAt: '2025-04-10T12:00:37.065Z',
      stepMs: 4000,
      overBudget: false,
      label: 'base-20250410T010000Z',
      target: { recovery_target_time: '2025-04-10 12:00:30+00' },
      checks: [],
      rto: { objective: 15_000, met: false },
    });
    valid(r);

    const ok = buildReport(
      syntheticJournal({
        runId: 'pitr-1',
        runbook: 'pitr',
        createdAt: '2025-04-12T09:00:00.000Z',
        steps: [
          {
            id: 'recover',
            kind: 'pitr',
            durationMs: 30_000,
            outputs: {
              label: 'base-20250412T010000Z',
              target: { recovery_target_name: 'before-drop' },
              stoppedAt: 'recovery stopping at restore point "before-drop", time 2025-04-12 08:59:00+00',
              timeToUsableMs: 25_000,
              recoveryMs: 12_000,
              checks: [{ query: 'select count(*) from accounts', value: '1000' }],
            },
          },
        ],
      }),
    );
    const [q] = ok.backups!.pitr;
    assert.deepEqual(q!.target, { recovery_target_name: 'before-drop' });
    assert.equal(q!.recoveryMs, 12_000);
    assert.deepEqual(q!.checks, [{ query: 'select count(*) from accounts', value: '1000' }]);
    assert.equal(q!.rto, undefined, 'no RTO objective, nothing to meet');
    valid(ok);
  });

  test('indexes unavailable (no amcheck) is a valid figure; a run without backup steps has no section', () => {
    const j = restoreRun(3, { of: 1 });
    for (const e of j.events)
      if (e.type === 'step-finished' && e.stepId === 'restore') e.outputs.indexesChecked = 'unavailable';
    const r = buildReport(j);
    assert.equal(r.backups!.restoreTests[0]!.indexesChecked, 'unavailable');
    valid(r);
    assert.equal(fixtureReport('succeeded').backups, undefined);
  });

  test('the Slack summary lists each backup, restore test and PITR in a line, its outcome first', () => {
    const r = buildReport(allKindsRun());
    const lines = [
      ':white_check_mark: backup base-20250410T010000Z: 40.0 MB in 8.00s (5.00 MB/s), verified',
      ':white_check_mark: restore test of base-20250410T010000Z: usable in 20.0s / RTO 15.0s MISSED, backup age 26h',
      ':x: PITR from base-20250410T010000Z: failed: recovery ended before reaching the target: WAL segment 000000010000000000000003 is not in the archive /lab/archive',
    ];
    assert.deepEqual(backupSummaryLines(r.backups!, slackIcon), lines);
    const sections = summaryBlocks('run-1', r).filter((b) => (b as { type: string }).type === 'section');
    assert.ok(
      sections.some((b) => JSON.stringify(b).includes(JSON.stringify(lines.join('\n')).slice(1, -1))),
      JSON.stringify(sections),
    );
    const plain = summaryBlocks('run-2', fixtureReport('succeeded'));
    assert.ok(!JSON.stringify(plain).includes('backup'), 'a run without backups has no such section');
  });

  test('ages read in days and hours', () => {
    assert.equal(age(undefined), '—');
    assert.equal(age(30_000), '30.0s');
    assert.equal(age(5 * 3_600_000 + 12 * 60_000), '5h12m');
    assert.equal(age(50 * 3_600_000), '2d2h');
    assert.equal(age(96 * 3_600_000), '4d');
  });
});
