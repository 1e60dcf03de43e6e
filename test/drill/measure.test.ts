// The drill's measurement from recorded data alone: probe writes, fault time, the run's events,
// the rows read back and the timeline switch point. No lab.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TYPICAL_PROFILE } from '../../src/drill/client-profiles.js';
import { measureDrill, promotedNode, type DrillRecord } from '../../src/drill/measure.js';
import { drillVerdict } from '../../src/drill/verdict.js';
import type { ProbeWrite } from '../../src/drill/probe.js';
import type { RunEvent } from '../../src/engine/events.js';
import type { Runbook } from '../../src/runbook/schema.js';

const OLD = '127.0.0.11:5432';
const NEW = '127.0.0.12:5432';
/** performance.now() when the run's clock read 0. */
const OFFSET = 10_000;

const ok = (seq: number, sentAt: number, ackAt: number, server = OLD, lsn?: string): ProbeWrite => ({
  seq,
  sentAt: OFFSET + sentAt,
  ackAt: OFFSET + ackAt,
  server,
  lsn,
});
const failed = (seq: number, sentAt: number): ProbeWrite => ({
  seq,
  sentAt: OFFSET + sentAt,
  error: 'connection refused',
});

/** A main step that finished at `t` on the run's clock. */
const finished = (
  stepId: string,
  t: number,
  durationMs: number,
  outputs: Record<string, unknown> = {},
  status: 'succeeded' | 'failed' = 'succeeded',
): RunEvent => ({
  type: 'step-finished',
  stepId,
  phase: 'main',
  status,
  durationMs,
  waitMs: 0,
  attempts: 1,
  outputs,
  runId: 'r',
  ts: new Date(1_700_000_000_000 + t).toISOString(),
  t,
});

const failoverRunbook = {
  steps: [
    { id: 'fence', kind: 'fence', phase: 'decide', budget: '1s' },
    { id: 'promote', kind: 'promote', phase: 'promote', budget: '2s' },
  ],
} as unknown as Pick<Runbook, 'steps'>;
const restoreRunbook = {
  steps: [
    { id: 'backup', kind: 'backup' },
    { id: 'verify', kind: 'restore-test' },
  ],
} as unknown as Pick<Runbook, 'steps'>;

/** One profile's writes, and the rows of it the new primary has. */
type OneClient = { writes?: ProbeWrite[]; presentSeqs?: ReadonlySet<number> };

const record = (arg: Partial<DrillRecord> & OneClient): DrillRecord => {
  const { writes = [], presentSeqs, ...over } = arg;
  return {
    runbook: failoverRunbook,
    events: [],
    clients: [
      {
        profile: { ...TYPICAL_PROFILE, via: 'router' },
        route: 'router main',
        writes,
        presentSeqs: 'presentSeqs' in arg ? presentSeqs : new Set(),
      },
    ],
    fault: { harms: 'availability' },
    faultAt: OFFSET + 1000,
    clockOffset: OFFSET,
    oldPrimary: OLD,
    ...over,
  };
};

describe('drill measurement', () => {
  it('no outage: every write acknowledged, RTO is the first write after the fault, no outage', () => {
    const writes = [ok(1, 900, 905), ok(2, 1000, 1004), ok(3, 1100, 1103)];
    const { figures } = measureDrill(record({ writes, presentSeqs: new Set([1, 2, 3]) }));
    assert.equal(figures.rtoMs, 4);
    assert.equal(figures.outage, undefined);
    assert.equal(figures.rtoBasis, undefined);
    assert.equal(figures.faultAt, 1000, 'the fault time is on the run clock');
    assert.deepEqual([figures.writesSent, figures.writesAcked, figures.writesFailed], [3, 3, 0]);
    assert.equal(figures.rpoRows, 0);
    assert.equal(figures.splitBrainWrites, 0);
    assert.equal(figures.promotedAt, undefined);
  });

  it('outage with recovery: the outage spans the failed writes, RTO ends at the new primary', () => {
    const writes = [
      ok(1, 900, 902, OLD, '0/3000100'),
      failed(2, 1050),
      failed(3, 1550),
      ok(4, 2050, 2060, NEW, '0/3000400'),
      ok(5, 2150, 2155, NEW),
    ];
    const events = [
      finished('fence', 1500, 300),
      finished('promote', 1900, 350, { node: 'pg2', timeline: 2 }),
    ];
    const m = measureDrill(
      record({ writes, events, presentSeqs: new Set([1, 4, 5]), timelineSwitchLsn: '0/3000100' }),
    );
    assert.equal(m.figures.rtoMs, 2060 - 1000);
    assert.deepEqual(m.figures.outage, { from: 1050, to: 2060 });
    assert.equal(m.figures.promotedAt, 1900);
    assert.equal(m.figures.longestGapMs, 2060 - 902);
    assert.equal(m.figures.rpoRows, 0);
    assert.equal(m.figures.rpoBytes, 0, 'the old primary stopped exactly at the switch point');
    assert.deepEqual(
      m.phases.map((p) => [p.phase, p.durationMs, p.budgetMs, p.met]),
      [
        ['decide', 300, 1000, true],
        ['promote', 350, 2000, true],
      ],
    );
  });

  it('never recovered: no RTO, and the outage lasts to the last write', () => {
    const writes = [ok(1, 900, 902), failed(2, 1050), failed(3, 1550), failed(4, 2050)];
    const { figures } = measureDrill(record({ writes, presentSeqs: new Set([1]) }));
    assert.equal(figures.rtoMs, undefined);
    assert.deepEqual(figures.outage, { from: 1050, to: 2050 });
    assert.deepEqual([figures.writesAcked, figures.writesFailed], [1, 3]);
  });

  it('lost rows: acknowledged writes the new primary lacks are the RPO, with the WAL past the switch point', () => {
    const writes = [
      ok(1, 900, 902, OLD, '0/3000100'),
      ok(2, 950, 953, OLD, '0/3000180'),
      failed(3, 1050),
      ok(4, 1500, 1510, NEW),
    ];
    const events = [finished('promote', 1400, 300, { node: 'pg2', timeline: 2 })];
    const { figures } = measureDrill(
      record({ writes, events, presentSeqs: new Set([1, 4]), timelineSwitchLsn: '0/3000100' }),
    );
    assert.equal(figures.rpoRows, 1);
    assert.deepEqual(figures.lostSeqs, [2]);
    assert.equal(figures.rpoBytes, 0x80);
  });

  it('rows that could not be read back count every acknowledged write as lost', () => {
    const writes = [ok(1, 900, 902), ok(2, 1100, 1102)];
    const { figures } = measureDrill(record({ writes, presentSeqs: undefined }));
    assert.equal(figures.rpoRows, 2);
  });

  it('split brain: writes the old primary acknowledged after the promotion', () => {
    const writes = [ok(1, 900, 902), ok(2, 1200, 1210), ok(3, 1600, 1605), ok(4, 1700, 1702, NEW)];
    const events = [finished('promote', 1500, 200, { node: 'pg2', timeline: 2 })];
    const { figures } = measureDrill(record({ writes, events, presentSeqs: new Set([1, 2, 3, 4]) }));
    assert.equal(figures.splitBrainWrites, 1);
  });

  it('a data fault is measured to the last recovery step, not by clients', () => {
    const writes = [ok(1, 900, 902), ok(2, 1100, 1102)];
    const events = [finished('backup', 1500, 400), finished('verify', 4000, 2000)];
    const { figures } = measureDrill(
      record({
        runbook: restoreRunbook,
        writes,
        events,
        fault: { harms: 'data' },
        presentSeqs: new Set([1, 2]),
      }),
    );
    assert.equal(figures.rtoBasis, 'recovery');
    assert.equal(figures.rtoMs, 3000);
  });

  it('data never recovered: a failed restore test leaves no RTO', () => {
    const events = [finished('verify', 4000, 2000, {}, 'failed')];
    const { figures } = measureDrill(record({ runbook: restoreRunbook, events, fault: { harms: 'data' } }));
    assert.equal(figures.rtoBasis, 'recovery');
    assert.equal(figures.rtoMs, undefined);
  });

  it('without a fault, a runbook with a restore step measures recovery', () => {
    const events = [finished('verify', 2500, 1000)];
    const restoreTest = measureDrill(record({ runbook: restoreRunbook, events, fault: undefined }));
    assert.equal(restoreTest.figures.rtoBasis, 'recovery');
    assert.equal(restoreTest.figures.rtoMs, 1500);
  });

  it('a planned switchover (no fault): the RTO is the longest client outage, not the first write after the start', () => {
    // The first write after the runbook starts lands on the old primary; the switch costs 1.7 s later.
    const writes = [ok(1, 1000, 1020), ok(2, 1500, 1504), failed(3, 1600), ok(4, 3200, 3210, NEW)];
    const switchover = measureDrill(record({ writes, presentSeqs: new Set([1, 2, 4]), fault: undefined }));
    assert.equal(switchover.figures.rtoBasis, 'outage');
    assert.equal(switchover.figures.rtoMs, 3210 - 1504);
  });

  it('measure: replication runs to the last repoint step; a failed client write fails the verdict', () => {
    const runbook = {
      steps: [
        { id: 'verify-primary', kind: 'verify' },
        { id: 'follow', kind: 'repoint' },
      ],
    } as unknown as Pick<Runbook, 'steps'>;
    const events = [finished('verify-primary', 1100, 50), finished('follow', 1700, 500)];
    const writes = [ok(1, 900, 902), ok(2, 1100, 1102), ok(3, 1300, 1302)];
    const { figures } = measureDrill(
      record({ runbook, events, writes, measure: 'replication', presentSeqs: new Set([1, 2, 3]) }),
    );
    assert.equal(figures.rtoBasis, 'replication');
    assert.equal(figures.rtoMs, 700);
    const objectives = { rtoMs: 15_000, rpoRows: 0 };
    assert.deepEqual(drillVerdict({ runSucceeded: true, figures, objectives }), {
      verdict: 'pass',
      reasons: [],
    });
    const outage = { ...figures, writesFailed: 2 };
    assert.match(
      drillVerdict({ runSucceeded: true, figures: outage, objectives }).reasons.join('\n'),
      /clients saw an outage \(2 failed write\(s\)\)/,
    );
    const never = measureDrill(record({ runbook, events: [], measure: 'replication' })).figures;
    assert.match(
      drillVerdict({ runSucceeded: false, figures: never, objectives }).reasons.join('\n'),
      /no repoint step succeeded/,
    );
  });

  it('a fault whose harm comes later (the DCS lost): the RTO is the longest outage after it, not the first write', () => {
    // Writes land for 2 s after the fault, then fail for 3 s until a new leader takes them.
    const writes = [
      ok(1, 900, 902),
      ok(2, 1100, 1105),
      ok(3, 3000, 3004),
      failed(4, 3100),
      failed(5, 5000),
      ok(6, 6000, 6010, NEW),
      ok(7, 6100, 6104, NEW),
    ];
    const { figures } = measureDrill(
      record({ writes, presentSeqs: new Set([1, 2, 3, 6, 7]), fault: { delayedHarm: true } }),
    );
    assert.equal(figures.rtoBasis, 'outage');
    assert.equal(figures.rtoMs, 6010 - 3004, 'from the last write before the outage to the first after it');
    assert.equal(figures.clients?.[0]?.rtoMs, 6010 - 3004, 'each profile is measured the same way');
    assert.deepEqual(figures.outage, { from: 3100, to: 6010 }, 'the outage ends after its first failure');
  });

  it('phases over budget are missed', () => {
    const events = [finished('fence', 500, 1500)];
    const { phases } = measureDrill(record({ events }));
    assert.deepEqual(phases, [
      { phase: 'decide', steps: ['fence'], durationMs: 1500, waitMs: 0, budgetMs: 1000, met: false },
    ]);
  });

  it('the promoted node is the first main step that reports a node and a timeline', () => {
    assert.equal(promotedNode([finished('fence', 100, 10, { node: 'pg1' })]), undefined);
    assert.equal(
      promotedNode([
        finished('promote', 100, 10, { node: 'pg3', timeline: 2 }, 'failed'),
        finished('promote', 200, 10, { node: 'pg2', timeline: 2 }),
      ]),
      'pg2',
    );
  });
});
