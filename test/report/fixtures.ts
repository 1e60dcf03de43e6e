// The recorded journals under test/fixtures/reports and their report models.
import { readJournal } from '../../src/engine/journal.js';
import { buildReport } from '../../src/report/model.js';

export const FIXTURES = {
  succeeded: 'test/fixtures/reports/run-succeeded.jsonl',
  failed: 'test/fixtures/reports/run-failed-rollback.jsonl',
  drill: 'test/fixtures/reports/drill.jsonl',
} as const;

export const fixtureReport = (name: keyof typeof FIXTURES) => buildReport(readJournal(FIXTURES[name]));
