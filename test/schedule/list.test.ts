// `schedule list`: next occurrences in the drill's zone, their jittered start, why one is skipped.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { markDegraded } from '../../src/drill/degraded.js';
import { listCommand, type ListedDrill } from '../../src/schedule/list.js';
import { drillSchedule } from '../../src/schedule/occurrences.js';
import { formatIn } from '../../src/time-zone.js';
import { drillYaml } from './drill-yaml.js';

function drillsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'drillbook-schedule-list-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function run(args: Parameters<typeof listCommand>[0]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = listCommand(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('schedule list', () => {
  const dir = drillsDir({
    'monthly.yaml': drillYaml(
      'monthly',
      `schedule:
  cron: "0 3 1 * *"
  timezone: Europe/Paris
  jitter: 10m
  blackout: [{ from: "2026-12-20", to: "2027-01-03" }]`,
    ),
    'weekly.yml': drillYaml('weekly', 'schedule: { cron: "0 9 * * 1" }'),
    'unscheduled.yaml': drillYaml('unscheduled', ''),
    'notes.txt': 'not yaml',
  });
  const stateDir = mkdtempSync(join(tmpdir(), 'drillbook-schedule-state-'));
  const from = new Date('2026-11-15T00:00:00Z');

  it('lists each scheduled drill with its next occurrences, in its zone, and skips', () => {
    const r = run({ dir, count: 3, from, stateDir });
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split('\n');
    assert.equal(
      lines[0],
      `monthly (${join(dir, 'monthly.yaml')}) on lab: "0 3 1 * *" in Europe/Paris, jitter 10m, catchUp skip`,
    );
    const jitter = drillSchedule('monthly', { cron: '0 3 1 * *', timezone: 'Europe/Paris', jitter: '10m' });
    const dec = jitter.next(from)!;
    assert.ok(dec.start > dec.at);
    assert.equal(lines[1], `  2026-12-01 03:00 +01:00  starts ${formatIn(dec.start, 'Europe/Paris')}`);
    assert.match(
      lines[2]!,
      /^ {2}2027-01-01 03:00 \+01:00 .* skipped: in blackout 2026-12-20 to 2027-01-03$/,
    );
    assert.match(lines[3]!, /^ {2}2027-02-01 03:00 \+01:00 /);
    assert.deepEqual(lines.slice(4), [
      `weekly (${join(dir, 'weekly.yml')}) on lab: "0 9 * * 1" in UTC, catchUp skip`,
      '  2026-11-16 09:00 +00:00',
      '  2026-11-23 09:00 +00:00',
      '  2026-11-30 09:00 +00:00',
    ]);
  });

  it('says when the environment is degraded, and what to do', () => {
    const degradedDir = mkdtempSync(join(tmpdir(), 'drillbook-schedule-state-'));
    markDegraded(degradedDir, {
      environment: 'lab',
      since: '2026-11-14T00:00:00Z',
      runId: 'r1',
      reason: 'restore failed',
      manualSteps: ['run the failback'],
    });
    const r = run({ dir, count: 1, from, stateDir: degradedDir, json: true });
    const { formatVersion, drills: listed } = JSON.parse(r.out) as {
      formatVersion: number;
      drills: ListedDrill[];
    };
    assert.equal(formatVersion, 1);
    assert.equal(listed[1]!.occurrences[0]!.skip, 'environment lab is degraded (restore failed)');
    const text = run({ dir, count: 1, from, stateDir: degradedDir }).out;
    assert.match(
      text,
      /environment lab degraded since 2026-11-14T00:00:00Z: restore failed\n {4}to do: run the failback/,
    );
  });

  it('reports broken drill files with their location and still lists the others', () => {
    const broken = drillsDir({
      'a.yaml': drillYaml('a', 'schedule: { cron: "0 9 * * 1" }'),
      'b.yaml': drillYaml('b', 'schedule: { cron: "0 9 31 2 *" }'),
    });
    const r = run({ dir: broken, count: 1, from, stateDir });
    assert.equal(r.code, 2);
    assert.match(r.err, /b\.yaml:8:19: invalid cron expression "0 9 31 2 \*": it never matches/);
    assert.match(r.out, /^a \(/);
  });
});
