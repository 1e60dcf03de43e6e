// The drill part of the report model: what a drill's events add, and its verdict at the end.
import type { RunEvent } from '../engine/events.js';
import { TIMELINE_LABELS, type DrillFigures, type Objectives } from '../schema/drill-outcome.js';
import type { ReportDrill } from './schema.js';

export type EventOf<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>;

/** A drill while its events are read: the objectives it started with, its end when it came. */
export type Drilled = Omit<
  ReportDrill,
  'verdict' | 'reasons' | 'phases' | 'rto' | 'rpo' | 'restoreOutage'
> & {
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
    probe: {
      route: e.probe.route,
      intervalMs: e.probe.intervalMs,
      writesSent: 0,
      writesAcked: 0,
      writesFailed: 0,
    },
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
  if (f.profile !== undefined) drill.profile = f.profile;
  if (f.clients)
    drill.clients = f.clients.map((c) => ({
      name: c.name,
      route: c.route,
      connectTimeoutMs: c.connectTimeoutMs,
      writeTimeoutMs: c.writeTimeoutMs,
      reconnectDelayMs: c.reconnectDelayMs,
      ...(c.rtoMs !== undefined && { rtoMs: c.rtoMs }),
      longestGapMs: c.longestGapMs,
      writesSent: c.writesSent,
      writesAcked: c.writesAcked,
      writesFailed: c.writesFailed,
      rpoRows: c.rpoRows,
      ...(c.restoreOutageMs !== undefined && { restoreOutageMs: c.restoreOutageMs }),
      ...(c.restoreWritesFailed !== undefined && { restoreWritesFailed: c.restoreWritesFailed }),
    }));
  if (f.timeline)
    drill.timeline = f.timeline.map((m) => ({
      mark: m.mark,
      label: TIMELINE_LABELS[m.mark],
      atMs: clock.at(m.at),
      sinceFaultMs: m.at - f.faultAt,
      ...(m.profile !== undefined && { profile: m.profile }),
      ...(m.detail !== undefined && { detail: m.detail }),
    }));
}

/** A drill whose journal ends before `drill-finished` has no verdict: it is reported incomplete. */
export function finishDrill(d: Drilled): ReportDrill {
  const { finished, objectives: fallback, ...rest } = d;
  const objectives = finished?.objectives ?? fallback;
  const rtoMs = finished?.figures.rtoMs;
  const rpoRows = finished?.figures.rpoRows;
  const restoreOutageMs = d.clients?.find((c) => c.name === d.profile)?.restoreOutageMs;
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
    ...(objectives.restoreOutageMs !== undefined && {
      restoreOutage: {
        objective: objectives.restoreOutageMs,
        ...(restoreOutageMs !== undefined && { actual: restoreOutageMs }),
        met: restoreOutageMs === undefined || restoreOutageMs <= objectives.restoreOutageMs,
      },
    }),
    verdict: finished?.verdict ?? 'incomplete',
    reasons: finished?.reasons ?? ['the drill did not finish: its journal ends before a verdict'],
    phases: finished?.phases ?? [],
    ...(finished && { restore: finished.restore }),
    ...(finished?.figures.rtoBasis && { rtoBasis: finished.figures.rtoBasis }),
  };
}
