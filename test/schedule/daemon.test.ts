// The daemon on a virtual clock: catch-up, blackout windows, jitter, overlapping occurrences,
// degraded environments and claims, each decision logged.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { markDegraded } from '../../src/drill/degraded.js';
import { fileClaims } from '../../src/schedule/claims.js';
import { jitterDelay } from '../../src/schedule/occurrences.js';
import { readState, updateState } from '../../src/schedule/state.js';
import { scheduled, simulate, skips } from './simulate.js';

const daily = { cron: '0 10 * * *', timezone: 'UTC' };

/** A state directory in which drill "d" has been watched since `start`. */
const watchedSince = async (start: string) =>
  (await simulate({ drills: [scheduled('d', daily)], start, until: start })).stateDir;

describe('daemon', () => {
  it('runs each occurrence at its time and remembers the last one', async () => {
    const s = await simulate({
      drills: [scheduled('d', daily)],
      start: '2026-11-01T12:00:00Z',
      until: '2026-11-03T12:00:00Z',
    });
    assert.deepEqual(
      s.runs.map((r) => r.at),
      ['2026-11-02T10:00:00.000Z', '2026-11-03T10:00:00.000Z'],
    );
    const state = readState(s.stateDir).d!;
    assert.equal(state.watchedSince, '2026-11-01T12:00:00.000Z');
    assert.equal(state.lastOccurrence, '2026-11-03T10:00:00.000Z');
    assert.equal(state.lastRun?.verdict, 'pass');
    assert.deepEqual(s.events.map((e) => e.event).slice(-2), ['stop', 'exit']);
  });

  it('hands its drills the repair `drillbook drill` uses (lab up after a fault left a node dead)', async () => {
    const s = await simulate({
      drills: [scheduled('d', daily)],
      start: '2026-11-01T12:00:00Z',
      until: '2026-11-02T12:00:00Z',
      repair: async (inventory) => [`lab up for ${inventory}`],
    });
    assert.deepEqual(
      s.runs.map((r) => r.repaired),
      [['lab up for /lab/inventory.yaml']],
    );
  });

  it('catchUp once runs the latest missed occurrence at start-up, once', async () => {
    const first = await simulate({
      drills: [scheduled('d', { ...daily, catchUp: 'once' })],
      start: '2026-11-01T12:00:00Z',
      until: '2026-11-01T13:00:00Z',
    });
    assert.deepEqual(first.runs, []); // never watched before: nothing counts as missed
    const s = await simulate({
      drills: [scheduled('d', { ...daily, catchUp: 'once' })],
      stateDir: first.stateDir,
      start: '2026-11-05T12:00:00Z',
      until: '2026-11-06T12:00:00Z',
    });
    assert.deepEqual(
      s.runs.map((r) => r.at),
      ['2026-11-05T12:00:00.000Z', '2026-11-06T10:00:00.000Z'],
    );
    const missed = s.events.find((e) => e.event === 'missed')!;
    assert.equal(missed.occurrence?.toISOString(), '2026-11-05T10:00:00.000Z');
    assert.match(missed.message, /^4 occurrence\(s\) missed since 2026-11-01T12:00:00.000Z; catchUp once/);
  });

  it('catchUp skip runs none of the missed occurrences', async () => {
    const stateDir = await watchedSince('2026-11-01T12:00:00Z');
    updateState(stateDir, 'd', (s) => ({ ...s!, lastOccurrence: '2026-11-01T10:00:00.000Z' }));
    const s = await simulate({
      drills: [scheduled('d', daily)],
      stateDir,
      start: '2026-11-05T12:00:00Z',
      until: '2026-11-06T12:00:00Z',
    });
    assert.deepEqual(
      s.runs.map((r) => r.at),
      ['2026-11-06T10:00:00.000Z'],
    );
    assert.match(
      s.events.find((e) => e.event === 'missed')!.message,
      /^4 occurrence\(s\) missed .*catchUp skip: none is run/,
    );
    // The skipped catch-up counts as handled: the next start finds nothing missed.
    const again = await simulate({
      drills: [scheduled('d', { ...daily, catchUp: 'once' })],
      stateDir,
      start: '2026-11-06T11:00:00Z',
      until: '2026-11-06T12:00:00Z',
    });
    assert.deepEqual(again.runs, []);
  });

  it('skips occurrences in blackout windows: dates in the schedule’s zone, and cron windows', async () => {
    const s = await simulate({
      drills: [
        scheduled('d', {
          cron: '30 0 * * *',
          timezone: 'Europe/Paris',
          blackout: [
            { from: '2026-11-03', to: '2026-11-04' },
            { cron: '0 0 * * 6', duration: '48h' }, // the weekend of Saturday 7 November
          ],
        }),
      ],
      start: '2026-11-01T12:00:00Z',
      until: '2026-11-09T12:00:00Z',
    });
    // 00:30 in Paris is 23:30 UTC the day before: the day in Paris decides.
    assert.deepEqual(
      s.runs.map((r) => r.at),
      ['01', '04', '05', '08'].map((d) => `2026-11-${d}T23:30:00.000Z`),
    );
    assert.deepEqual(
      skips(s),
      ['02', '03', '06', '07'].map((d) => ({ occurrence: `2026-11-${d}T23:30:00.000Z`, reason: 'blackout' })),
    );
    const messages = s.events.filter((e) => e.event === 'skip').map((e) => e.message);
    assert.match(messages[0]!, /blackout 2026-11-03 to 2026-11-04/);
    assert.match(messages[2]!, /blackout "0 0 \* \* 6" for 48h \(opened 2026-11-07 00:00 \+01:00\)/);
  });

  it('starts each occurrence after its own jitter delay, the same on every run', async () => {
    const s = await simulate({
      drills: [scheduled('d', { ...daily, jitter: '30m' })],
      start: '2026-11-01T12:00:00Z',
      until: '2026-11-04T12:00:00Z',
    });
    const expected = ['2026-11-02', '2026-11-03', '2026-11-04'].map((day) => {
      const at = new Date(`${day}T10:00:00Z`);
      return new Date(at.getTime() + jitterDelay('d', at, 30 * 60_000)).toISOString();
    });
    assert.deepEqual(
      s.runs.map((r) => r.at),
      expected,
    );
    assert.ok(new Set(expected.map((e) => e.slice(11))).size > 1, 'the delay differs between occurrences');
  });

  it('does not start an occurrence while the previous one still runs', async () => {
    const s = await simulate({
      drills: [scheduled('d', { cron: '*/30 * * * *' })],
      start: '2026-11-01T09:59:00Z',
      until: '2026-11-01T11:59:00Z',
      drillMs: 50 * 60_000,
    });
    assert.deepEqual(
      s.runs.map((r) => r.at),
      ['2026-11-01T10:00:00.000Z', '2026-11-01T11:00:00.000Z'],
    );
    assert.deepEqual(skips(s), [
      { occurrence: '2026-11-01T10:30:00.000Z', reason: 'running' },
      { occurrence: '2026-11-01T11:30:00.000Z', reason: 'running' },
    ]);
  });

  it('skips occurrences while the environment is marked degraded', async () => {
    const stateDir = await watchedSince('2026-11-01T12:00:00Z');
    markDegraded(stateDir, {
      environment: 'lab',
      since: '2026-11-01T00:00:00Z',
      runId: 'r',
      reason: 'restore failed',
      manualSteps: [],
    });
    const s = await simulate({
      drills: [scheduled('d', daily)],
      stateDir,
      start: '2026-11-01T12:00:00Z',
      until: '2026-11-02T12:00:00Z',
    });
    assert.deepEqual(s.runs, []);
    assert.deepEqual(skips(s), [{ occurrence: '2026-11-02T10:00:00.000Z', reason: 'degraded' }]);
    assert.match(s.events.find((e) => e.event === 'skip')!.message, /degraded .*restore failed/);
  });

  it('runs an occurrence once when two daemons share the claims', async () => {
    const stateDir = await watchedSince('2026-11-01T12:00:00Z');
    const daemons = ['a', 'b'].map((name) =>
      simulate({
        drills: [scheduled('d', daily)],
        stateDir,
        start: '2026-11-01T12:00:00Z',
        until: '2026-11-03T12:00:00Z',
        claims: (clock) => fileClaims(stateDir, name, clock.now),
      }),
    );
    const [a, b] = await Promise.all(daemons);
    assert.equal(a!.runs.length + b!.runs.length, 2);
    const claimed = [...skips(a!), ...skips(b!)];
    assert.deepEqual(
      claimed.map((c) => c.reason),
      ['claimed', 'claimed'],
    );
  });
});
