// The drill's one timeline, from what was recorded: the fault, each client's first failed and
// first acknowledged write, and the runbook's own steps as its events tell them (the detect step
// agreeing, the first step after it starting, the promotion and the route switch finishing), then
// the restore. Pure: checked without a lab (test/drill/timeline.test.ts).
import type { RunEvent } from '../engine/events.js';
import type { ClientFigures, TimelineMark } from '../schema/drill-outcome.js';
import type { Runbook } from '../runbook/schema.js';
import type { DrillRecord } from './measure.js';

type StepStarted = Extract<RunEvent, { type: 'step-started' }>;
type StepFinished = Extract<RunEvent, { type: 'step-finished' }>;

const mainFinished = (e: RunEvent): e is StepFinished =>
  e.type === 'step-finished' && e.phase === 'main' && e.status === 'succeeded';
const mainStarted = (e: RunEvent): e is StepStarted => e.type === 'step-started' && e.phase === 'main';

/** A step that detects the failure: in the `detect` phase, or a verify that expects the target down. */
function detects(step: Runbook['steps'][number]): boolean {
  if (step.phase) return step.phase === 'detect';
  return step.kind === 'verify' && (step.with as { expect?: unknown } | undefined)?.expect === 'down';
}

export function drillTimeline(
  r: Pick<DrillRecord, 'runbook' | 'events' | 'faultAt' | 'clockOffset' | 'restore' | 'fault'>,
  clients: readonly ClientFigures[],
): TimelineMark[] {
  const marks: TimelineMark[] = [];
  const stepOf = new Map(r.runbook.steps.map((st) => [st.id, st]));
  if (r.fault) marks.push({ mark: 'fault', at: r.faultAt - r.clockOffset });
  for (const c of clients)
    if (c.firstFailedAt !== undefined)
      marks.push({ mark: 'first-failed-write', at: c.firstFailedAt, profile: c.name });
  marks.push(...triggerMarks(r.events));
  const started = r.events.find(mainStarted);
  if (started) marks.push({ mark: 'runbook-started', at: started.t, detail: started.stepId });
  const detected = r.events.find(
    (e): e is StepFinished => mainFinished(e) && stepOf.has(e.stepId) && detects(stepOf.get(e.stepId)!),
  );
  if (detected) {
    const { agreed, quorum } = detected.outputs;
    const votes =
      typeof agreed === 'number' ? `, ${agreed} vantage point(s) agreed (quorum ${String(quorum)})` : '';
    marks.push({ mark: 'detected', at: detected.t, detail: `${detected.stepId}${votes}` });
  }
  // Recovery starts with the first step after detection (the runbook's first when nothing detects).
  const recovery = r.events.find(
    (e): e is StepStarted => mainStarted(e) && stepOf.has(e.stepId) && !detects(stepOf.get(e.stepId)!),
  );
  if (recovery) marks.push({ mark: 'recovery-started', at: recovery.t, detail: recovery.stepId });
  const approved = r.events.find((e) => e.type === 'approval-granted');
  if (approved)
    marks.push({ mark: 'approved', at: approved.t, detail: `${approved.stepId} by ${approved.by}` });
  const promoted = r.events.find(
    (e): e is StepFinished =>
      mainFinished(e) && typeof e.outputs.timeline === 'number' && typeof e.outputs.node === 'string',
  );
  if (promoted)
    marks.push({
      mark: 'promoted',
      at: promoted.t,
      detail: `${String(promoted.outputs.node)} (${promoted.stepId})`,
    });
  const finishedKind = (kind: string) =>
    r.events.find((e): e is StepFinished => mainFinished(e) && stepOf.get(e.stepId)?.kind === kind);
  const routed = finishedKind('route') ?? finishedKind('dns');
  if (routed) marks.push({ mark: 'routed', at: routed.t, detail: routed.stepId });
  for (const c of clients)
    if (c.firstAckAt !== undefined) marks.push({ mark: 'first-ack', at: c.firstAckAt, profile: c.name });
  if (r.restore) {
    marks.push({ mark: 'restore-started', at: r.restore.from - r.clockOffset });
    marks.push({ mark: 'restore-finished', at: r.restore.to - r.clockOffset });
  }
  return marks.sort((a, b) => a.at - b.at);
}

/**
 * A drill started by an alert: when it fired (Alertmanager's startsAt) and when serve received the
 * webhook, wall times placed on the run's clock through the event's own pair of times.
 */
function triggerMarks(events: readonly RunEvent[]): TimelineMark[] {
  const e = events.find((x) => x.type === 'drill-triggered');
  if (e?.type !== 'drill-triggered' || e.trigger !== 'alert') return [];
  const onClock = (wall: string) => e.t - (Date.parse(e.ts) - Date.parse(wall));
  const detail = e.alertRun ? `${e.alertname ?? 'alert'} → run ${e.alertRun}` : e.alertname;
  return [
    ...(e.firingAt ? [{ mark: 'alert-firing' as const, at: onClock(e.firingAt), detail }] : []),
    ...(e.receivedAt ? [{ mark: 'webhook-received' as const, at: onClock(e.receivedAt) }] : []),
  ];
}
