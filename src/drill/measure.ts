// The drill's measurement as a pure function of what was recorded: the probe's writes, when the
// fault struck, the run's events, the rows read back and the timeline switch point. Nothing here
// touches the lab, so every figure can be checked without one (test/drill/measure.test.ts).
import type { DrillPhase, RunEvent } from '../engine/events.js';
import type { DrillFigures } from '../schema/drill-outcome.js';
import type { Runbook } from '../runbook/schema.js';
import { drillFigures } from './figures.js';
import { drillPhases } from './failover-phases.js';
import type { Fault } from './faults/types.js';
import type { ProbeWrite } from './probe.js';

/** Step kinds whose success means the data is back in a verified, usable copy. */
const RECOVERY_KINDS = new Set(['pitr', 'restore-test']);
/** Step kinds whose success means every replica the fault orphaned streams again. */
const REPLICATION_KINDS = new Set(['repoint']);

type StepFinished = Extract<RunEvent, { type: 'step-finished' }>;

export interface DrillRecord {
  runbook: Pick<Runbook, 'steps'>;
  /** The run's events (times `t` on the run's clock). */
  events: readonly RunEvent[];
  writes: readonly ProbeWrite[];
  /** The fault that struck, if any (what it harms decides how the RTO is measured). */
  fault?: Pick<Fault, 'harms'>;
  /** When the fault struck, or the runbook started without one (performance.now() ms). */
  faultAt: number;
  /** performance.now() minus the run's clock: probe and fault times are on the former. */
  clockOffset: number;
  /** Probe rows of this drill read back through the route; undefined when they could not be read. */
  presentSeqs?: ReadonlySet<number>;
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
  const figures = drillFigures({
    writes: r.writes,
    faultAt: r.faultAt,
    presentSeqs: r.presentSeqs ?? new Set(),
    oldPrimary: r.oldPrimary,
    promotedAt: promote ? promote.t + r.clockOffset : undefined,
    timelineSwitchLsn: r.timelineSwitchLsn,
  });
  const measuresReplication = r.measure === 'replication';
  const measuresRecovery = !measuresReplication && measuresRecoveryOf(r);
  if (measuresRecovery || measuresReplication) {
    const recovery = lastStepOf(r, measuresReplication ? REPLICATION_KINDS : RECOVERY_KINDS);
    figures.rtoMs = recovery ? recovery.t + r.clockOffset - r.faultAt : undefined;
  }
  const outage = outageOf(r.writes, r.faultAt);
  return {
    figures: {
      ...figures,
      ...(measuresRecovery && { rtoBasis: 'recovery' as const }),
      ...(measuresReplication && { rtoBasis: 'replication' as const }),
      faultAt: onRunClock(r.faultAt),
      promotedAt: promote?.t,
      outage: outage && { from: onRunClock(outage.from), to: onRunClock(outage.to) },
    },
    phases: drillPhases(r.runbook, r.events),
  };
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
  const recovered = writes.find((x) => x.sentAt >= faultAt && x.ackAt !== undefined);
  return { from: firstFail.sentAt, to: recovered?.ackAt ?? writes.at(-1)!.sentAt };
}
