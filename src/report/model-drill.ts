// The drill part of the report model: what a drill's events add, and its verdict at the end.
import type { RunEvent } from '../engine/events.js';
import type { DrillFigures, Objectives } from '../schema/drill-outcome.js';
import type { ReportDrill } from './schema.js';

export type EventOf<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>;

/** A drill while its events are read: the objectives it started with, its end when it came. */
export type Drilled = Omit<ReportDrill, 'verdict' | 'reasons' | 'phases' | 'rto' | 'rpo'> & {
  objectives: Objectives;
  finished?: Extract<RunEvent, { type: 'drill-finished' }>;
};

export function startedDrill(e: EventOf<'drill-started'>): Drilled {
  return {
    name: e.drill.name,
    path: e.drill.path,
    fault: {
      kind: e.fault.kind,
      node: e.fault.node,
      ...(e.fault.durationMs !== undefined && { durationMs: e.fault.durationMs }),
      reverted: false,
    },
    probe: { ...e.probe, writesSent: 0, writesAcked: 0, writesFailed: 0 },
    objectives: e.objectives,
    lostSeqs: [],
    splitBrainWrites: 0,
  };
}

export function applyFigures(drill: Drilled, f: DrillFigures, clock: { at(t: number): number }): void {
  Object.assign(drill.probe, {
    writesSent: f.writesSent,
    writesAcked: f.writesAcked,
    writesFailed: f.writesFailed,
    longestGapMs: f.longestGapMs,
    ...(f.outage && { outage: { fromAtMs: clock.at(f.outage.from), toAtMs: clock.at(f.outage.to) } }),
  });
  drill.fault.atMs ??= clock.at(f.faultAt);
  drill.lostSeqs = f.lostSeqs;
  drill.splitBrainWrites = f.splitBrainWrites;
  if (f.rpoBytes !== undefined) drill.rpoBytes = f.rpoBytes;
  if (f.patroni) drill.patroni = f.patroni;
  if (f.promotedAt !== undefined) drill.promotedAtMs = clock.at(f.promotedAt);
}

/** A drill whose journal ends before `drill-finished` has no verdict: it is reported incomplete. */
export function finishDrill(d: Drilled): ReportDrill {
  const { finished, objectives: fallback, ...rest } = d;
  const objectives = finished?.objectives ?? fallback;
  const rtoMs = finished?.figures.rtoMs;
  const rpoRows = finished?.figures.rpoRows;
  return {
    ...rest,
    rto: {
      objective: objectives.rtoMs,
      ...(rtoMs !== undefined && { actual: rtoMs }),
      met: rtoMs !== undefined && rtoMs <= objectives.rtoMs,
    },
    rpo: {
      objective: objectives.rpoRows,
      ...(rpoRows !== undefined && { actual: rpoRows }),
      met: rpoRows !== undefined && rpoRows <= objectives.rpoRows,
    },
    verdict: finished?.verdict ?? 'incomplete',
    reasons: finished?.reasons ?? ['the drill did not finish: its journal ends before a verdict'],
    phases: finished?.phases ?? [],
    ...(finished && { restore: finished.restore }),
    ...(finished?.figures.rtoBasis && { rtoBasis: finished.figures.rtoBasis }),
  };
}
