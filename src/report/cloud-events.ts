// Failover events the cloud API recorded (RDS DescribeEvents, through the rds action's `events`
// output), placed on the run's timeline: the cloud's own account of when its failover started and
// completed, beside the steps that asked for it and waited. The same event read by two steps (the
// failover call and the wait) appears once.
import { Type, type Static } from '@sinclair/typebox';
import type { RunEventOf } from '../schema/events.js';
import { OneOf, Strict } from '../schema/common.js';

export const ReportCloudEvent = Strict({
  stepId: Type.String({ description: 'the step that read it first' }),
  at: Type.String({ format: 'date-time', description: 'when the cloud recorded it' }),
  atMs: Type.Optional(Type.Number({ description: 'offset from the run’s start (negative: before it)' })),
  code: Type.String({ description: 'RDS-EVENT-0072/0073 started, 0071 completed, 0069 failed' }),
  phase: OneOf(['started', 'completed', 'failed']),
  message: Type.String(),
});
export type ReportCloudEvent = Static<typeof ReportCloudEvent>;

type StepEvent = Omit<ReportCloudEvent, 'stepId' | 'atMs'>;
const PHASES: readonly unknown[] = ['started', 'completed', 'failed'];

/** One of an rds step's `events` (its output contract checked them as they were made). */
const isStepEvent = (v: unknown): v is StepEvent => {
  const e = v as Partial<Record<keyof StepEvent, unknown>> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.at === 'string' &&
    typeof e.code === 'string' &&
    PHASES.includes(e.phase) &&
    typeof e.message === 'string'
  );
};

/** Kinds whose outputs carry cloud events. */
const CLOUD_KINDS = new Set(['rds']);

export class CloudEvents {
  private readonly kinds = new Map<string, string>();
  private readonly events = new Map<string, ReportCloudEvent>();

  started(stepId: string, kind: string): void {
    this.kinds.set(stepId, kind);
  }

  finished(e: RunEventOf<'step-finished'>, runStart: string): void {
    if (!CLOUD_KINDS.has(this.kinds.get(e.stepId) ?? '')) return;
    const events = e.outputs.events;
    if (!Array.isArray(events)) return;
    for (const event of events.filter(isStepEvent)) {
      const key = `${event.at} ${event.code} ${event.message}`;
      if (this.events.has(key)) continue;
      const atMs = Date.parse(event.at) - Date.parse(runStart);
      this.events.set(key, { stepId: e.stepId, ...event, ...(Number.isFinite(atMs) && { atMs }) });
    }
  }

  /** The events in the order they happened; undefined when no step read any. */
  build(): ReportCloudEvent[] | undefined {
    if (!this.events.size) return undefined;
    return [...this.events.values()].sort((a, b) => a.at.localeCompare(b.at));
  }
}

/** The events as table rows, for report.md and report.html alike. */
export const CLOUD_EVENT_COLUMNS = ['at', 'into the run', 'event', 'phase', 'message', 'read by'];
export const cloudEventRows = (events: readonly ReportCloudEvent[], dur: (ms: number) => string) =>
  events.map((e) => [
    e.at,
    e.atMs === undefined ? '—' : e.atMs < 0 ? `${dur(-e.atMs)} before` : dur(e.atMs),
    e.code,
    e.phase,
    e.message,
    e.stepId,
  ]);
