// The reports are written in pieces (a long run's report is megabytes: never one string in memory).
// Each file must be byte for byte what the whole-string renderers wrote before: the golden files
// under test/fixtures/reports/rendered/ were written by them (UPDATE_GOLDEN=1 rewrites them after a
// deliberate change of wording or layout).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildReport } from '../../src/report/model.js';
import type { Report } from '../../src/report/schema.js';
import { writeReportFiles } from '../../src/report/write.js';
import { allKindsRun, backupRun, syntheticJournal, type SyntheticStep } from './backup-journals.js';
import { fixtureReport } from './fixtures.js';

const GOLDEN = 'test/fixtures/reports/rendered';

/** Enough steps for every file to span many write buffers, with an error and outputs to escape. */
const longRun = () =>
  buildReport(
    syntheticJournal({
      runId: 'long-run',
      runbook: 'long',
      createdAt: '2025-03-01T10:00:00.000Z',
      rtoMs: 60_000,
      steps: Array.from({ length: 300 }, (_, i): SyntheticStep => ({
        id: `s${i}`,
        kind: 'wait',
        budgetMs: i % 7 ? 1000 : 5,
        durationMs: 10 + (i % 13),
        outputs: { note: `<${i}> "a" & 'b' | \`c\`` },
      })).concat([{ id: 'last', kind: 'shell', durationMs: 3, error: 'exit 1: <boom> & "quote"' }]),
    }),
  );

const REPORTS: Record<string, () => Report> = {
  succeeded: () => fixtureReport('succeeded'),
  failed: () => fixtureReport('failed'),
  drill: () => fixtureReport('drill'),
  backup: () => buildReport(backupRun(1)),
  'all-kinds': () => buildReport(allKindsRun()),
  long: longRun,
};

test('every report file written in pieces equals the golden whole-string render', (t) => {
  const out = mkdtempSync(join(tmpdir(), 'drillbook-chunked-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  for (const [name, report] of Object.entries(REPORTS)) {
    const dir = writeReportFiles(report(), join(out, name));
    for (const file of readdirSync(dir).sort()) {
      const golden = join(GOLDEN, name, file);
      const written = readFileSync(join(dir, file));
      if (process.env.UPDATE_GOLDEN) {
        mkdirSync(join(GOLDEN, name), { recursive: true });
        writeFileSync(golden, written);
      }
      assert.ok(written.equals(readFileSync(golden)), `${name}/${file} differs from ${golden}`);
    }
  }
});
