// The words of a run's and a drill's outcome, defined once: the runner and the drill compute them,
// the engine's events carry them (src/schema/events.ts), the scheduler records them and every view
// and report renders them with the labels below.
import { Type, type Static } from '@sinclair/typebox';
import { formatDuration } from '../duration.js';
import { OneOf, Strict } from './common.js';

/** How a run ended (a report adds `incomplete` for a journal that ends before `run-finished`). */
export const RUN_STATUSES = ['succeeded', 'failed', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A finished drill's verdict (a report adds `incomplete` for a journal that ends before one). */
export const DRILL_VERDICTS = ['pass', 'fail', 'aborted'] as const;
export const DrillVerdict = OneOf(DRILL_VERDICTS);
export type DrillVerdict = Static<typeof DrillVerdict>;

/** A verdict as every view and report shows it. */
export const verdictWord = (verdict: DrillVerdict | 'incomplete') => verdict.toUpperCase();

/** An objective against what was measured; nothing when there was no objective. */
export const metWord = (met: boolean | undefined) => (met === undefined ? '' : met ? 'met' : 'MISSED');

/**
 * A drill's objectives: recovery time (ms) and acknowledged rows that may be lost, judged on one
 * client profile, and optionally the longest gap that profile may see during the restore.
 */
export const Objectives = Strict({
  rtoMs: Type.Number({ minimum: 0 }),
  rpoRows: Type.Integer({ minimum: 0 }),
  profile: Type.Optional(Type.String({ description: 'the client profile judged' })),
  restoreOutageMs: Type.Optional(Type.Number({ minimum: 0 })),
  /** A drill that causes a split brain on purpose: the split brain is what it must show. */
  splitBrainExpected: Type.Optional(Type.Boolean()),
});
export type Objectives = Static<typeof Objectives>;

/** What the RTO measured: clients writing again, or the data back in a verified copy. */
export const RTO_BASES = ['clients', 'recovery', 'replication', 'outage'] as const;
export type RtoBasis = (typeof RTO_BASES)[number];

/** The name of the RTO figure wherever it is shown. */
export const rtoLabelOf = (basis: RtoBasis | undefined) =>
  basis === 'recovery'
    ? 'RTO (data recovered and verified)'
    : basis === 'replication'
      ? 'RTO (orphaned replicas streaming again)'
      : basis === 'outage'
        ? 'RTO (longest client outage)'
        : 'RTO (client-observed)';

const Ms = (description?: string) => Type.Number({ minimum: 0, description });
const Count = Type.Integer({ minimum: 0 });

/** What one client profile saw (times on the run's clock). */
export const ClientFigures = Strict({
  name: Type.String(),
  route: Type.String({ description: 'how the profile reaches the primary' }),
  connectTimeoutMs: Ms(),
  writeTimeoutMs: Ms(),
  reconnectDelayMs: Ms(),
  rtoMs: Type.Optional(Ms('first acknowledged write sent at or after the fault, minus the fault time')),
  longestGapMs: Ms('the longest time between two consecutive acknowledgements after the fault'),
  writesSent: Count,
  writesAcked: Count,
  writesFailed: Count,
  rpoRows: Type.Integer({
    minimum: 0,
    description: 'acknowledged rows of this profile the new primary lacks',
  }),
  lostSeqs: Type.Array(Type.Integer()),
  rpoBytes: Type.Optional(Type.Number()),
  splitBrainWrites: Type.Integer({ minimum: 0 }),
  firstFailedAt: Type.Optional(
    Type.Number({ description: 'when the client first saw a write fail after the fault' }),
  ),
  firstAckAt: Type.Optional(
    Type.Number({ description: 'first acknowledgement of a write sent after the fault' }),
  ),
  restoreOutageMs: Type.Optional(
    Ms('the longest time without an acknowledgement while the restore ran (absent: no restore ran)'),
  ),
  restoreWritesFailed: Type.Optional(Count),
});
export type ClientFigures = Static<typeof ClientFigures>;

/** The marks of a drill's one timeline, in the order a failover normally passes them. */
export const TIMELINE_MARKS = [
  'fault',
  'first-failed-write',
  'alert-firing',
  'webhook-received',
  'runbook-started',
  'approved',
  'detected',
  'recovery-started',
  'leader-lost',
  'leader-elected',
  'promoted',
  'routed',
  'first-ack',
  'restore-started',
  'restore-finished',
] as const;
export type TimelineMarkKind = (typeof TIMELINE_MARKS)[number];

/** What each mark means, wherever the timeline is shown. */
export const TIMELINE_LABELS: Record<TimelineMarkKind, string> = {
  fault: 'fault injected',
  'first-failed-write': 'first failed client write',
  'alert-firing': 'alert firing (Alertmanager startsAt)',
  'webhook-received': 'webhook received by drillbook serve',
  'runbook-started': 'runbook started',
  approved: 'approved',
  detected: 'failure detected (the detect step’s vantage points agreed)',
  'recovery-started': 'recovery started (first step after detection)',
  'leader-lost': 'HA manager: leader key expired, no running leader',
  'leader-elected': 'HA manager: new leader elected',
  promoted: 'new primary promoted',
  routed: 'route switched',
  'first-ack': 'first acknowledged write',
  'restore-started': 'restore started',
  'restore-finished': 'restore finished',
};

export const TimelineMark = Strict({
  mark: OneOf(TIMELINE_MARKS),
  at: Type.Number({ description: "on the run's clock" }),
  profile: Type.Optional(Type.String({ description: 'the client profile, for client marks' })),
  detail: Type.Optional(Type.String()),
});
export type TimelineMark = Static<typeof TimelineMark>;

/** How a Patroni cluster came through the fault. */
export const PATRONI_OUTCOMES = ['failover', 'recovered in place, no failover', 'no failover'] as const;

/** What a drill on a Patroni cluster adds: the leaders, Patroni's /history line and the chain. */
export const PatroniFigures = Strict({
  leaderBefore: Type.String(),
  leaderAfter: Type.String(),
  timelineBefore: Type.Optional(Type.Integer()),
  timelineAfter: Type.Optional(Type.Integer()),
  failover: Type.Boolean({ description: 'Patroni elected another leader after the fault' }),
  outcome: Type.Optional(OneOf(PATRONI_OUTCOMES)),
  history: Type.Optional(Type.String({ description: "the last line of Patroni's GET /history" })),
  pinnedWrites: Strict({ sent: Count, acked: Count }),
  splitBrainWrites: Type.Integer({
    minimum: 0,
    description: 'writes the old leader acknowledged, on its own address, after the new leader was elected',
  }),
  leaderMovedAgain: Type.Optional(
    Strict(
      { name: Type.String(), ms: Ms('after the fault') },
      {
        description:
          'the first leader after the elected one, while the drill watched (to one ttl after the fault ended): a cluster that does not hold its new leader',
      },
    ),
  ),
  chain: Type.Array(
    Strict({
      what: Type.String(),
      ms: Ms('after the fault'),
      mark: Type.Optional(OneOf(TIMELINE_MARKS, { description: 'its place on the drill timeline' })),
    }),
    {
      description: 'fault → new leader elected → route (HAProxy follows) → clients back',
    },
  ),
});
export type PatroniFigures = Static<typeof PatroniFigures>;

/** What Patroni did, as every view says it: the outcome and leaders, the chain, the /history line. */
export const patroniLines = (p: PatroniFigures, dur: (ms: number) => string): string[] => [
  `Patroni: ${p.outcome ?? (p.failover ? 'failover' : 'no failover')}, leader ${p.leaderBefore} → ${p.leaderAfter}`,
  `chain: ${p.chain.map((c) => `${c.what} +${dur(c.ms)}`).join(' → ')}`,
  ...(p.history ? [`Patroni /history: ${p.history}`] : []),
];

/** The figures of a drill (times on the run's monotonic clock, like an event's `t`). */
export const DrillFigures = Strict({
  rtoMs: Type.Optional(
    Ms(
      '`clients` (default): the first acknowledged write sent at or after the fault, minus the fault ' +
        'time. `recovery` (a data fault, or a restore test without one): from the fault (or the start ' +
        'of the runbook) to the end of its last pitr / restore-test step. `outage` (a fault whose harm ' +
        'comes later, the DCS majority lost): the longest gap between acknowledged writes after the ' +
        'fault. Absent when neither happened.',
    ),
  ),
  rtoBasis: Type.Optional(OneOf(RTO_BASES)),
  longestGapMs: Ms('the longest time between two consecutive acknowledgements around the fault'),
  writesSent: Count,
  writesAcked: Count,
  writesFailed: Count,
  rpoRows: Type.Integer({ minimum: 0, description: 'acknowledged probe rows the new primary does not have' }),
  lostSeqs: Type.Array(Type.Integer()),
  rpoBytes: Type.Optional(
    Type.Number({
      description: "WAL between the old primary's last acknowledged position and the timeline switch point",
    }),
  ),
  splitBrainWrites: Type.Integer({
    minimum: 0,
    description: 'writes the old primary acknowledged after the promotion: split brain, must be 0',
  }),
  faultAt: Type.Number(),
  outage: Type.Optional(
    Strict(
      { from: Type.Number(), to: Type.Number() },
      { description: 'from the first failed write after the fault to the first acknowledged one after it' },
    ),
  ),
  promotedAt: Type.Optional(Type.Number()),
  profile: Type.Optional(
    Type.String({ description: 'the client profile judged: the figures above are its figures' }),
  ),
  clients: Type.Optional(Type.Array(ClientFigures, { description: 'every client profile, in drill order' })),
  timeline: Type.Optional(Type.Array(TimelineMark, { description: 'the recovery chain, ordered by time' })),

  patroni: Type.Optional(PatroniFigures),
});
export type DrillFigures = Static<typeof DrillFigures>;

/** What every view and report says about one client profile, in one line. */
export function clientLine(c: {
  name: string;
  rtoMs?: number;
  longestGapMs: number;
  writesFailed: number;
  rpoRows: number;
  restoreOutageMs?: number;
}): string {
  const rto = c.rtoMs === undefined ? 'never wrote again' : formatDuration(c.rtoMs);
  const restore =
    c.restoreOutageMs === undefined ? '' : `, restore outage ${formatDuration(c.restoreOutageMs)}`;
  return `${c.name}: RTO ${rto}, longest gap ${formatDuration(c.longestGapMs)}, ${c.writesFailed} failed write(s), RPO ${c.rpoRows} row(s)${restore}`;
}
