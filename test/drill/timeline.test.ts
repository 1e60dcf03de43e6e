// Per-profile figures, the recovery chain and the restore outage, from recorded data alone. No lab.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientProfiles, judgedProfile } from '../../src/drill/client-profiles.js';
import { measureDrill, restoreOutage, type ClientRecord, type DrillRecord } from '../../src/drill/measure.js';
import type { ProbeWrite } from '../../src/drill/probe.js';
import { drillTimeline } from '../../src/drill/timeline.js';
import { drillVerdict } from '../../src/drill/verdict.js';
import type { RunEvent } from '../../src/engine/events.js';
import type { Runbook } from '../../src/runbook/schema.js';

const OLD = '127.0.0.11:5432';
const NEW = '127.0.0.12:5432';
const OFFSET = 10_000;

const ok = (seq: number, sentAt: number, ackAt: number, server = OLD): ProbeWrite => ({
  seq,
  sentAt: OFFSET + sentAt,
  ackAt: OFFSET + ackAt,
  server,
});
const failed = (seq: number, sentAt: number, failedAt?: number): ProbeWrite => ({
  seq,
  sentAt: OFFSET + sentAt,
  ...(failedAt !== undefined && { failedAt: OFFSET + failedAt }),
  error: 'refused',
});

const base = { runId: 'r', ts: '2026-01-01T00:00:00.000Z' };
const started = (stepId: string, kind: string, t: number): RunEvent => ({
  ...base,
  type: 'step-started',
  stepId,
  kind,
  phase: 'main',
  input: {},
  attempts: 1,
  t,
});
const finished = (stepId: string, t: number, outputs: Record<string, unknown> = {}): RunEvent => ({
  ...base,
  type: 'step-finished',
  stepId,
  phase: 'main',
  status: 'succeeded',
  durationMs: 10,
  waitMs: 0,
  attempts: 1,
  outputs,
  t,
});

const runbook = {
  steps: [
    { id: 'verify-primary-down', kind: 'verify', phase: 'detect', with: { expect: 'down' } },
    { id: 'pick', kind: 'select-replica', phase: 'decide' },
    { id: 'promote', kind: 'promote', phase: 'promote' },
    { id: 'route', kind: 'route', phase: 'route' },
  ],
} as unknown as Pick<Runbook, 'steps'>;

const events: RunEvent[] = [
  started('verify-primary-down', 'verify', 1010),
  finished('verify-primary-down', 1200, { agreed: 2, quorum: 2 }),
  started('pick', 'select-replica', 1205),
  finished('pick', 1250, { node: 'pg2' }),
  started('promote', 'promote', 1255),
  finished('promote', 1400, { node: 'pg2', timeline: 2 }),
  started('route', 'route', 1405),
  finished('route', 1450),
];

const [typical, impatient] = clientProfiles({
  clients: [
    { name: 'typical' },
    { name: 'impatient', connectTimeout: '500ms', writeTimeout: '500ms', reconnectDelay: '0s' },
  ],
});

// The typical client hangs in a connect for a while; the impatient one gives up and retries.
const typicalWrites = [
  ok(1, 900, 902),
  failed(2, 1050),
  ok(3, 1300, 1500, NEW),
  ok(4, 1550, 1552, NEW),
  // the restore (3000-3400): one failure, back at 3600
  ok(5, 2950, 2952, OLD),
  failed(6, 3100),
  ok(7, 3550, 3600, OLD),
];
const impatientWrites = [
  ok(1, 950, 951),
  failed(2, 1001),
  failed(3, 1100),
  ok(4, 1420, 1460, NEW),
  ok(5, 1500, 1501, NEW),
  ok(6, 2960, 2961, OLD),
  ok(7, 3200, 3201, OLD),
];

const clients = (over: Partial<ClientRecord>[] = []): ClientRecord[] => [
  {
    profile: typical!,
    route: 'router main',
    writes: typicalWrites,
    presentSeqs: new Set([1, 3, 4]),
    ...over[0],
  },
  {
    profile: impatient!,
    route: 'router main',
    writes: impatientWrites,
    presentSeqs: new Set([1, 4, 5]),
    ...over[1],
  },
];

const record = (over: Partial<DrillRecord> = {}): DrillRecord => ({
  runbook,
  events,
  clients: clients(),
  fault: { harms: 'availability' },
  faultAt: OFFSET + 1000,
  clockOffset: OFFSET,
  readAt: OFFSET + 2000,
  restore: { from: OFFSET + 3000, to: OFFSET + 3400 },
  oldPrimary: OLD,
  ...over,
});

describe('client profiles', () => {
  it('a drill that names none gets one typical application profile', () => {
    assert.deepEqual(clientProfiles(undefined), [
      { name: 'typical', connectTimeoutMs: 5000, writeTimeoutMs: 5000, reconnectDelayMs: 200, via: 'router' },
    ]);
    assert.equal(judgedProfile({ objectives: { rto: '10s', rpo: 0 } }), 'typical');
  });

  it('declared profiles keep their order, take the probe route by default, and the first is judged', () => {
    const drill = {
      probe: { via: 'dns' as const, clients: [{ name: 'a', via: ['pg2', 'pg1'] }, { name: 'b' }] },
      objectives: { rto: '10s', rpo: 0 },
    };
    assert.deepEqual(
      clientProfiles(drill.probe).map((p) => [p.name, p.via]),
      [
        ['a', ['pg2', 'pg1']],
        ['b', 'dns'],
      ],
    );
    assert.equal(judgedProfile(drill), 'a');
    assert.equal(judgedProfile({ ...drill, objectives: { ...drill.objectives, profile: 'b' } }), 'b');
  });
});

describe('per-profile figures', () => {
  it('each profile has its own RTO, longest gap, failed writes and RPO; the judged one gives the drill figures', () => {
    const { figures } = measureDrill(record({ judged: 'impatient' }));
    assert.equal(figures.profile, 'impatient');
    const byName = new Map(figures.clients!.map((c) => [c.name, c]));
    const t = byName.get('typical')!;
    const i = byName.get('impatient')!;
    assert.deepEqual([t.rtoMs, t.longestGapMs, t.writesSent, t.writesFailed, t.rpoRows], [500, 598, 4, 1, 0]);
    assert.deepEqual([i.rtoMs, i.longestGapMs, i.writesSent, i.writesFailed, i.rpoRows], [460, 509, 5, 2, 0]);
    assert.deepEqual([t.firstFailedAt, t.firstAckAt], [1050, 1500]);
    assert.deepEqual([i.firstFailedAt, i.firstAckAt], [1001, 1460]);
    assert.deepEqual(
      [figures.rtoMs, figures.longestGapMs, figures.writesFailed],
      [460, 509, 2],
      'the drill figures are the judged profile’s',
    );
    assert.equal(figures.outage?.from, 1001);
    assert.equal(t.connectTimeoutMs, 5000);
    assert.equal(i.connectTimeoutMs, 500);
  });

  it('the first failure a client saw may be of a write sent before the fault: it counts when it failed', () => {
    const hung = [ok(1, 900, 902), failed(2, 990, 1490), failed(3, 1490, 1495), ok(4, 1600, 1610, NEW)];
    const { figures } = measureDrill(record({ clients: clients([{ writes: hung }]) }));
    assert.equal(figures.clients![0]!.firstFailedAt, 1490);
  });

  it('without a named profile the first is judged', () => {
    const { figures } = measureDrill(record());
    assert.equal(figures.profile, 'typical');
    assert.equal(figures.rtoMs, 500);
  });

  it('RPO per profile: acknowledged rows of that profile the new primary lacks', () => {
    const { figures } = measureDrill(
      record({ clients: clients([{ presentSeqs: new Set([3, 4]) }, { presentSeqs: undefined }]) }),
    );
    const [t, i] = figures.clients!;
    assert.deepEqual([t!.rpoRows, t!.lostSeqs], [1, [1]]);
    assert.deepEqual([i!.rpoRows, i!.lostSeqs], [3, [1, 4, 5]], 'unreadable rows count as lost');
  });

  it('writes of the restore are not the failover’s: no split brain when the old primary is back', () => {
    const { figures } = measureDrill(record());
    assert.deepEqual(
      figures.clients!.map((c) => c.splitBrainWrites),
      [0, 0],
    );
    const everything = measureDrill(record({ readAt: undefined }));
    assert.equal(everything.figures.clients![0]!.splitBrainWrites, 2, 'without the cut they would count');
  });
});

describe('restore outage', () => {
  it('the longest time without an acknowledgement while the restore ran, per profile', () => {
    const { figures } = measureDrill(record());
    assert.deepEqual(
      figures.clients!.map((c) => [c.name, c.restoreOutageMs, c.restoreWritesFailed]),
      [
        ['typical', 3600 - 2952, 1],
        ['impatient', 3201 - 2961, 0],
      ],
    );
  });

  it('a client still failing at the end is out until its last write', () => {
    const writes = [ok(1, 0, 1), failed(2, 100), failed(3, 600)];
    assert.deepEqual(restoreOutage(writes, { from: OFFSET + 50, to: OFFSET + 500 }), {
      longestGapMs: 599,
      failed: 2,
    });
  });

  it('no restore, no restore outage', () => {
    const { figures } = measureDrill(record({ restore: undefined }));
    assert.ok(figures.clients!.every((c) => c.restoreOutageMs === undefined));
  });

  it('the objective restoreOutage is judged on the judged profile', () => {
    const { figures } = measureDrill(record());
    const objectives = { rtoMs: 10_000, rpoRows: 0, profile: 'typical', restoreOutageMs: 500 };
    const v = drillVerdict({ runSucceeded: true, figures, objectives });
    assert.equal(v.verdict, 'fail');
    assert.deepEqual(v.reasons, ['restore outage 648ms (typical) missed the objective 500ms']);
    const met = drillVerdict({
      runSucceeded: true,
      figures,
      objectives: { ...objectives, restoreOutageMs: 700 },
    });
    assert.equal(met.verdict, 'pass');
  });
});

describe('the recovery chain', () => {
  it('fault → first failed write → detected → recovery started → promoted → routed → first ack per profile, then the restore', () => {
    const { figures } = measureDrill(record());
    assert.deepEqual(
      figures.timeline!.map((m) => [m.mark, m.at, m.profile ?? m.detail ?? '']),
      [
        ['fault', 1000, ''],
        ['first-failed-write', 1001, 'impatient'],
        ['runbook-started', 1010, 'verify-primary-down'],
        ['first-failed-write', 1050, 'typical'],
        ['detected', 1200, 'verify-primary-down, 2 vantage point(s) agreed (quorum 2)'],
        ['recovery-started', 1205, 'pick'],
        ['promoted', 1400, 'pg2 (promote)'],
        ['routed', 1450, 'route'],
        ['first-ack', 1460, 'impatient'],
        ['first-ack', 1500, 'typical'],
        ['restore-started', 3000, ''],
        ['restore-finished', 3400, ''],
      ],
    );
  });

  it('a runbook without a detect step starts its recovery with its first step; DNS is the route without a route step', () => {
    const plain = {
      steps: [
        { id: 'promote', kind: 'promote' },
        { id: 'dns', kind: 'dns' },
      ],
    } as unknown as Pick<Runbook, 'steps'>;
    const { figures } = measureDrill(
      record({
        runbook: plain,
        events: [
          started('promote', 'promote', 1100),
          finished('promote', 1300, { node: 'pg2', timeline: 2 }),
          finished('dns', 1350),
        ],
        restore: undefined,
      }),
    );
    const marks = figures.timeline!.filter((m) => !m.profile).map((m) => [m.mark, m.at]);
    assert.deepEqual(marks, [
      ['fault', 1000],
      ['runbook-started', 1100],
      ['recovery-started', 1100],
      ['promoted', 1300],
      ['routed', 1350],
    ]);
  });
});

describe('the timeline of a drill an alert or a person started', () => {
  it('places the alert firing and the webhook on the run clock, and the approval, in order', () => {
    // The drill-triggered event at t=5000 ms was stamped 12:00:05.000: the run clock's zero is 12:00:00.
    const triggered: RunEvent = {
      runId: 'r',
      type: 'drill-triggered',
      trigger: 'alert',
      alertRun: 'alert-run',
      alertname: 'PostgresPrimaryDown',
      firingAt: '2026-01-01T12:00:03.100Z',
      receivedAt: '2026-01-01T12:00:03.120Z',
      ts: '2026-01-01T12:00:05.000Z',
      t: 5000,
    };
    const granted: RunEvent = {
      ...base,
      type: 'approval-granted',
      stepId: 'ok',
      by: 'U1 via slack',
      waitMs: 1,
      t: 3400,
    };
    const marks = drillTimelineOf([triggered, started('verify-primary-down', 'verify', 3300), granted]);
    const at = Object.fromEntries(marks.map((m) => [m.mark, m.at]));
    assert.equal(at['alert-firing'], 3100);
    assert.equal(at['webhook-received'], 3120);
    assert.equal(at.approved, 3400);
    assert.deepEqual(
      marks.map((m) => m.mark),
      ['fault', 'alert-firing', 'webhook-received', 'runbook-started', 'approved'],
    );
    assert.match(
      marks.find((m) => m.mark === 'alert-firing')!.detail ?? '',
      /PostgresPrimaryDown → run alert-run/,
    );
  });

  it('has no alert marks for a drill a person started', () => {
    const triggered: RunEvent = { ...base, type: 'drill-triggered', trigger: 'manual', by: 'ops', t: 10 };
    assert.deepEqual(
      drillTimelineOf([triggered]).map((m) => m.mark),
      ['fault'],
    );
  });
});

function drillTimelineOf(events: RunEvent[]) {
  return drillTimeline(
    {
      runbook,
      events,
      faultAt: OFFSET + 1000,
      clockOffset: OFFSET,
      fault: { harms: 'availability' } as never,
    },
    [],
  );
}
