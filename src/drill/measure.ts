// The drill's measurement as a pure function of what was recorded: the probe's writes, when the
// fault struck, the run's events, the rows read back and the timeline switch point. Nothing here
// touches the lab, so every figure can be checked without one (test/drill/measure.test.ts).
import type { DrillPhase, RunEvent } from '../engine/events.js';
import type { ClientFigures, DrillFigures } from '../schema/drill-outcome.js';
import type { Runbook } from '../runbook/schema.js';
import { judgedIndex, type ClientProfile } from './client-profiles.js';
import { drillFigures, type ProbeFigures } from './figures.js';
import { drillTimeline } from './timeline.js';
import { drillPhases } from './failover-phases.js';
import type { Fault } from './faults/types.js';
import type { ProbeWrite } from './probe.js';

/** Step kinds whose success means the data is back in a verified, usable copy. */
const RECOVERY_KINDS = new Set(['pitr', 'restore-test']);
/** Step kinds whose success means every replica the fault orphaned streams again. */
const REPLICATION_KINDS = new Set(['repoint']);

type StepFinished = Extract<RunEvent, { type: 'step-finished' }>;

/** What one client profile recorded. */
export interface ClientRecord {
  profile: ClientProfile;
  /** How the profile reached the primary, in words. */
  route: string;
  writes: readonly ProbeWrite[];
  /** This profile's probe rows read back through the route; undefined when they could not be read. */
  presentSeqs?: ReadonlySet<number>;
}

export interface DrillRecord {
  runbook: Pick<Runbook, 'steps'>;
  /** The run's events (times `t` on the run's clock). */
  events: readonly RunEvent[];
  /** Every client profile, in drill order. */
  clients: readonly ClientRecord[];
  /** The profile the objectives judge (default: the first). */
  judged?: string;
  /** The fault that struck, if any (what it harms decides how the RTO is measured). */
  fault?: Pick<Fault, 'harms' | 'delayedHarm'>;
  /** When the fault struck, or the runbook started without one (performance.now() ms). */
  faultAt: number;
  /** performance.now() minus the run's clock: probe and fault times are on the former. */
  clockOffset: number;
  /**
   * When the rows were read back (performance.now() ms): the failover's figures count the writes
   * sent before it; later ones belong to the restore. Default: every write.
   */
  readAt?: number;
  /** When the restore runbook ran (performance.now() ms), if it did. */
  restore?: { from: number; to: number };
  /** address:port of the primary before the fault. */
  oldPrimary: string;
  /** Where the new primary's timeline branched off, when another node was promoted. */
  timelineSwitchLsn?: string;
  /** The drill's `objectives.measure`: replication measures until the orphaned replicas stream. */
  measure?: 'clients' | 'replication';
}

export interface Measurement {
  figures: DrillFigures;
  phases: DrillPhase[];
}

/** The main step that promoted a node (it reports the node and its new timeline). */
export function promotionStep(events: readonly RunEvent[]): StepFinished | undefined {
  return events.find(
    (e): e is StepFinished =>
      e.type === 'step-finished' &&
      e.status === 'succeeded' &&
      e.phase === 'main' &&
      typeof e.outputs.timeline === 'number' &&
      typeof e.outputs.node === 'string',
  );
}

/** The node the runbook promoted, if it reported one. */
export function promotedNode(events: readonly RunEvent[]): string | undefined {
  const node = promotionStep(events)?.outputs.node;
  return typeof node === 'string' ? node : undefined;
}

/** The figures of a drill that stopped before its probe ran. */
export const noFigures = (): DrillFigures => ({
  longestGapMs: 0,
  writesSent: 0,
  writesAcked: 0,
  writesFailed: 0,
  rpoRows: 0,
  lostSeqs: [],
  splitBrainWrites: 0,
  faultAt: 0,
});

export function measureDrill(r: DrillRecord): Measurement {
  const onRunClock = (t: number) => t - r.clockOffset;
  const promote = promotionStep(r.events);
  const measuresReplication = r.measure === 'replication';
  const measuresRecovery = !measuresReplication && measuresRecoveryOf(r);
  // A planned change (no fault) harms clients only once the runbook acts, as a delayed harm does:
  // the first write after the start still lands, so the figure is the longest outage.
  const outageBased =
    !measuresReplication && !measuresRecovery && (r.fault ? r.fault.delayedHarm === true : true);
  const clients = r.clients
    .map((c) => clientFigures(r, c, promote))
    .map((c) => (outageBased ? { ...c, rtoMs: c.longestGapMs } : c));
  const judgedAt = judgedIndex(r.clients, r.judged);
  const judged = clients[judgedAt];
  const figures = pickProbeFigures(judged ?? noFigures());
  if (measuresRecovery || measuresReplication) {
    const recovery = lastStepOf(r, measuresReplication ? REPLICATION_KINDS : RECOVERY_KINDS);
    figures.rtoMs = recovery ? recovery.t + r.clockOffset - r.faultAt : undefined;
  }
  const judgedWrites = r.clients[judgedAt] ? failoverWrites(r, r.clients[judgedAt]) : [];
  const outage = outageOf(judgedWrites, r.faultAt);
  return {
    figures: {
      ...figures,
      ...(measuresRecovery && { rtoBasis: 'recovery' as const }),
      ...(measuresReplication && { rtoBasis: 'replication' as const }),
      ...(outageBased && { rtoBasis: 'outage' as const }),
      faultAt: onRunClock(r.faultAt),
      promotedAt: promote?.t,
      outage: outage && { from: onRunClock(outage.from), to: onRunClock(outage.to) },
      ...(judged && { profile: judged.name, clients }),
      timeline: drillTimeline(r, clients),
    },
    phases: drillPhases(r.runbook, r.events),
  };
}

/**
 * The writes of the failover: those that ended before the rows were read back (a write still in
 * flight when the read began may not be in what it read, and belongs to what came after).
 */
const failoverWrites = (r: DrillRecord, c: ClientRecord) =>
  r.readAt === undefined ? c.writes : c.writes.filter((w) => (w.ackAt ?? w.failedAt ?? w.sentAt) < r.readAt!);

/** The judged profile's figures are the drill's. */
function pickProbeFigures(f: ProbeFigures): ProbeFigures {
  return {
    rtoMs: f.rtoMs,
    longestGapMs: f.longestGapMs,
    writesSent: f.writesSent,
    writesAcked: f.writesAcked,
    writesFailed: f.writesFailed,
    rpoRows: f.rpoRows,
    lostSeqs: f.lostSeqs,
    rpoBytes: f.rpoBytes,
    splitBrainWrites: f.splitBrainWrites,
  };
}

function clientFigures(r: DrillRecord, c: ClientRecord, promote: StepFinished | undefined): ClientFigures {
  const writes = failoverWrites(r, c);
  const f = drillFigures({
    writes,
    faultAt: r.faultAt,
    presentSeqs: c.presentSeqs ?? new Set(),
    oldPrimary: r.oldPrimary,
    promotedAt: promote ? promote.t + r.clockOffset : undefined,
    timelineSwitchLsn: r.timelineSwitchLsn,
  });
  // The first failure the client saw after the fault (a write sent before it may fail after it).
  const firstFailed = writes.find((w) => w.ackAt === undefined && (w.failedAt ?? w.sentAt) >= r.faultAt);
  const firstAck = writes.find((w) => w.sentAt >= r.faultAt && w.ackAt !== undefined);
  const restore = r.restore && restoreOutage(c.writes, r.restore);
  return {
    name: c.profile.name,
    route: c.route,
    connectTimeoutMs: c.profile.connectTimeoutMs,
    writeTimeoutMs: c.profile.writeTimeoutMs,
    reconnectDelayMs: c.profile.reconnectDelayMs,
    ...f,
    ...(firstFailed && { firstFailedAt: (firstFailed.failedAt ?? firstFailed.sentAt) - r.clockOffset }),
    ...(firstAck && { firstAckAt: firstAck.ackAt! - r.clockOffset }),
    ...(restore && { restoreOutageMs: restore.longestGapMs, restoreWritesFailed: restore.failed }),
  };
}

/**
 * The outage clients feel during the restore (a planned switchover back): the longest time without
 * an acknowledgement from the last one before the restore started to the first after the last
 * failure, or to the last write when writes never came back.
 */
export function restoreOutage(
  writes: readonly ProbeWrite[],
  window: { from: number; to: number },
): { longestGapMs: number; failed: number } {
  const before = writes.filter((w) => w.ackAt !== undefined && w.ackAt < window.from).at(-1);
  const during = writes.filter((w) => w.sentAt >= window.from);
  let last = before?.ackAt ?? window.from;
  let longest = 0;
  for (const w of during) {
    if (w.ackAt === undefined) continue;
    longest = Math.max(longest, w.ackAt - last);
    last = w.ackAt;
  }
  const tail = during.at(-1);
  if (tail && tail.ackAt === undefined) longest = Math.max(longest, tail.sentAt - last);
  return { longestGapMs: longest, failed: during.filter((w) => w.ackAt === undefined).length };
}

/**
 * A data fault leaves clients writing, and a restore test without a fault harms nothing: there,
 * recovery is the end of the runbook's last restore-test or pitr step (a verified, usable copy).
 * A drill without a fault that moves the primary (a switchover) is measured by its clients.
 */
function measuresRecoveryOf(r: DrillRecord): boolean {
  if (r.fault) return r.fault.harms === 'data';
  return r.runbook.steps.some((st) => RECOVERY_KINDS.has(st.kind));
}

function lastStepOf(r: DrillRecord, kinds: ReadonlySet<string>): StepFinished | undefined {
  const stepKinds = new Map(r.runbook.steps.map((st) => [st.id, st.kind]));
  return r.events.findLast(
    (e): e is StepFinished =>
      e.type === 'step-finished' &&
      e.status === 'succeeded' &&
      e.phase === 'main' &&
      kinds.has(stepKinds.get(e.stepId) ?? ''),
  );
}

/** From the first failed write after the fault to the first acknowledgement after it (or the last write). */
function outageOf(writes: readonly ProbeWrite[], faultAt: number): { from: number; to: number } | undefined {
  const firstFail = writes.find((x) => x.sentAt >= faultAt && x.ackAt === undefined);
  if (!firstFail) return undefined;
  // After the first failure: a fault whose harm comes later lets writes land before it.
  const recovered = writes.find((x) => x.sentAt >= firstFail.sentAt && x.ackAt !== undefined);
  return { from: firstFail.sentAt, to: recovered?.ackAt ?? writes.at(-1)!.sentAt };
}
