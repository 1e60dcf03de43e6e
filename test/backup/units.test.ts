// Pure parts of the backup work: retention choices, the lab's --archive options, reading how a
// recovery ended from the server log.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BackupEntry } from '../../src/backup/catalog.js';
import { missingSegment, stopPoint } from '../../src/backup/recovery.js';
import { retentionVictims } from '../../src/backup/retention.js';
import { assertSameShape, resolveLabConfig } from '../../src/lab/config.js';
import { UserError } from '../../src/errors.js';

const day = 86_400_000;
const now = Date.parse('2024-06-10T00:00:00Z');
const entry = (label: string, daysAgo: number, verified = true) =>
  ({ label, startedAt: new Date(now - daysAgo * day).toISOString(), verified }) as BackupEntry;

describe('retention', () => {
  const backups = [entry('a', 9), entry('b', 5, false), entry('c', 3), entry('d', 1), entry('new', 0)];
  const newest = backups.at(-1)!;
  const labels = (xs: BackupEntry[]) => xs.map((x) => x.label);

  test('keep N keeps the N newest verified backups; unverified older ones go', () => {
    assert.deepEqual(labels(retentionVictims(backups, newest, { keep: 2 }, now)), ['a', 'b', 'c']);
  });
  test('maxAge removes what is older, however few remain', () => {
    assert.deepEqual(labels(retentionVictims(backups, newest, { maxAgeMs: 4 * day }, now)), ['a', 'b']);
  });
  test('the verified backup itself and anything newer are never candidates', () => {
    const later = [...backups, entry('later', -1)];
    assert.deepEqual(labels(retentionVictims(later, newest, { keep: 1, maxAgeMs: 0 }, now)), [
      'a',
      'b',
      'c',
      'd',
    ]);
  });
  test('no policy removes nothing', () => {
    assert.deepEqual(retentionVictims(backups, newest, {}, now), []);
  });
});

describe('lab --archive', () => {
  test('is recorded with its timeout in whole seconds (default 60s)', () => {
    assert.deepEqual(resolveLabConfig({ archive: true, archiveTimeout: '10s' }).archive, { timeoutS: 10 });
    assert.deepEqual(resolveLabConfig({ archive: true }).archive, { timeoutS: 60 });
    assert.equal(resolveLabConfig({}).archive, undefined);
  });
  test('bad timeouts and a timeout without --archive are bad input', () => {
    assert.throws(() => resolveLabConfig({ archive: true, archiveTimeout: '1500ms' }), UserError);
    assert.throws(
      () => resolveLabConfig({ archive: true, archiveTimeout: 'soon' }),
      /--archive-timeout must be/,
    );
    assert.throws(() => resolveLabConfig({ archiveTimeout: '10s' }), /--archive-timeout needs --archive/);
  });
  test('an existing lab keeps its archiving: up without the flag is fine, another setting is refused', () => {
    const existing = resolveLabConfig({ archive: true, archiveTimeout: '5s' });
    assert.doesNotThrow(() => assertSameShape(existing, {}, '/lab'));
    assert.throws(() => assertSameShape(existing, { archiveTimeout: '6s' }, '/lab'), /archive/);
    assert.throws(() => assertSameShape(resolveLabConfig({}), { archive: true }, '/lab'), /archive/);
  });
});

describe('recovery log', () => {
  const log = [
    `cp: cannot stat '/lab/archive/000000010000000000000004': No such file or directory`,
    `cp: cannot stat '/lab/archive/000000010000000000000005': No such file or directory`,
    '2024-06-10 00:00:00 UTC [1] FATAL:  recovery ended before configured recovery target was reached',
  ].join('\n');
  test('the last segment the archive did not have is the gap', () => {
    assert.equal(missingSegment(log), '000000010000000000000005');
  });
  test('a recovery that reached its target names no gap (the misses are its normal end)', () => {
    assert.equal(missingSegment(log.split('\n').slice(0, 2).join('\n')), undefined);
  });
  test('the stop point is read from the log', () => {
    const line = '2024-06-10 00:00:00 UTC [1] LOG:  recovery stopping at restore point "x", time 2024-06-10';
    assert.equal(stopPoint(line), 'recovery stopping at restore point "x", time 2024-06-10');
  });
});
