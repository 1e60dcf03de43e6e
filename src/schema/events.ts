// The run events: what the runner emits, the journal records, `--json` prints and every report reads.
// This TypeBox schema is the single source: the TypeScript types are derived from it (Static) and
// schemas/events.schema.json is emitted from it, so the types and the published schema cannot drift.
import { Type, type Static, type TProperties } from '@sinclair/typebox';
import { FORMAT_VERSION } from '../json-output.js';
import { OneOf, Strict } from './common.js';
import { DrillFigures, DrillVerdict, Objectives, RUN_STATUSES } from './drill-outcome.js';

const Opt = Type.Optional;
const Ms = (description?: string) => Type.Number({ minimum: 0, description });
const Count = Type.Integer({ minimum: 0 });

/** Main steps, or the compensation steps that run after a failure. */
export const StepPhase = OneOf(['main', 'rollback']);

export const StepSummary = Strict({
  id: Type.String(),
  kind: Type.String(),
  name: Opt(Type.String()),
  budgetMs: Opt(Ms()),
  phase: StepPhase,
});

/** How a resumed run treats the step that was in flight when the process died. */
export const InterruptedDecision = OneOf(['retry', 'skip', 'check']);

/** A failover phase (detect, decide, promote, route, validate) from the runbook's steps. */
export const DrillPhase = Strict({
  phase: Type.String(),
  steps: Type.Array(Type.String()),
  durationMs: Ms(),
  waitMs: Ms('time waiting for approvals within the phase, counted apart'),
  budgetMs: Opt(Ms()),
  met: Opt(Type.Boolean()),
});

const Named = Strict({ name: Type.String(), path: Type.String() });

/** What the emitter adds to every body: whose run, and when. */
const envelope = {
  runId: Type.String({ description: 'the run this event belongs to' }),
  ts: Type.String({ format: 'date-time', description: 'wall-clock time, for people and reports' }),
  t: Ms('monotonic milliseconds since this process started the run, for durations'),
  formatVersion: Opt(
    Type.Literal(FORMAT_VERSION, {
      description: 'on `--json` output lines; a journal carries its version in its header',
    }),
  ),
};

/** One event type: its body, and the envelope the emitter adds. */
const Event = <K extends string, P extends TProperties>(type: K, body: P) =>
  Strict({ type: Type.Literal(type), ...body, ...envelope });

export const RunStarted = Event('run-started', {
  runbook: Strict({ name: Type.String(), path: Type.String(), sha256: Type.String() }),
  environment: Strict({ name: Type.String(), label: Type.String() }),
  operator: Type.String(),
  rtoMs: Opt(Ms()),
  steps: Type.Array(StepSummary),
});
export const RunResumed = Event('run-resumed', {
  operator: Type.String(),
  restored: Type.Array(Type.String(), {
    description: 'steps finished before the interruption: not run again, outputs restored',
  }),
  interrupted: Opt(Strict({ stepId: Type.String(), decision: InterruptedDecision })),
});
export const StepStarted = Event('step-started', {
  stepId: Type.String(),
  kind: Type.String(),
  phase: StepPhase,
  input: Type.Unknown({ description: 'the rendered `with:` input' }),
  budgetMs: Opt(Ms()),
  timeoutMs: Opt(Ms()),
  attempts: Count,
});
export const StepAttemptFailed = Event('step-attempt-failed', {
  stepId: Type.String(),
  attempt: Count,
  error: Type.String(),
  retryable: Type.Boolean(),
  willRetry: Type.Boolean({ description: 'whether another attempt follows, after delayMs' }),
  delayMs: Opt(Ms()),
});
export const StepFinished = Event('step-finished', {
  stepId: Type.String(),
  phase: StepPhase,
  status: OneOf(['succeeded', 'failed']),
  durationMs: Ms('wall time on the monotonic clock, approval waits included'),
  waitMs: Ms('time spent waiting for a human (approvals): durationMs - waitMs is machine time'),
  attempts: Count,
  outputs: Type.Record(Type.String(), Type.Unknown()),
  error: Opt(Type.String()),
  continued: Opt(Type.Boolean({ description: 'a failure that did not stop the run (continueOnError)' })),
  alreadyDone: Opt(
    Type.Boolean({ description: "on resume: the step's effect was found in place and not redone" }),
  ),
});
export const StepSkipped = Event('step-skipped', {
  stepId: Type.String(),
  phase: StepPhase,
  reason: OneOf(['when', 'interrupted']),
  detail: Opt(Type.String()),
});
/** A process a step started (its own process group), so a resume can find it if it outlived a crash. */
/** A process a step started (its own process group), so a resume can find it if it outlived a crash. */
export const ChildStarted = Event('child-started', {
  stepId: Type.String(),
  pid: Count,
  startTime: Type.String(),
});
export const BudgetExceeded = Event('budget-exceeded', {
  stepId: Type.String(),
  budgetMs: Ms(),
  elapsedMs: Ms(),
});
export const RtoExceeded = Event('rto-exceeded', { rtoMs: Ms(), elapsedMs: Ms() });
export const RollbackStarted = Event('rollback-started', {
  failedStep: Type.String(),
  error: Type.String(),
  steps: Type.Array(StepSummary),
});
export const ApprovalRequested = Event('approval-requested', {
  stepId: Type.String(),
  message: Type.String(),
  approvers: Opt(Type.Array(Type.String())),
});
export const ApprovalGranted = Event('approval-granted', {
  stepId: Type.String(),
  by: Type.String(),
  waitMs: Ms(),
});
export const ApprovalDenied = Event('approval-denied', {
  stepId: Type.String(),
  by: Type.String(),
  waitMs: Ms(),
});
export const Log = Event('log', {
  stepId: Opt(Type.String()),
  level: OneOf(['info', 'warn']),
  message: Type.String(),
});
// Drill events: a drill is a run of its runbook with a fault and a probe around it (src/drill).
export const DrillStarted = Event('drill-started', {
  drill: Named,
  fault: Strict({ kind: Type.String(), node: Type.String(), durationMs: Opt(Ms()) }),
  objectives: Objectives,
  probe: Strict({
    route: Type.String(),
    intervalMs: Ms(),
    clients: Opt(Type.Array(Type.String(), { description: 'the client profiles writing side by side' })),
  }),
});
export const SteadyState = Event('steady-state', {
  healthy: Type.Boolean(),
  problems: Type.Array(Type.String()),
  lagBytes: Type.Record(Type.String(), Type.Number()),
});
export const FaultInjected = Event('fault-injected', {
  kind: Type.String(),
  node: Type.String(),
  at: Type.Number({ description: "on the run's monotonic clock (the same as every event's t)" }),
  detail: Type.String(),
});
export const FaultReverted = Event('fault-reverted', {
  kind: Type.String(),
  node: Type.String(),
  detail: Type.String(),
  error: Opt(Type.String()),
});
/** A drill with `trigger: alert | manual`: what started its runbook, with the links of the chain. */
export const DrillTriggered = Event('drill-triggered', {
  trigger: OneOf(['alert', 'manual']),
  alertRun: Opt(
    Type.String({ description: 'alert: the id of the run the alert started through drillbook serve' }),
  ),
  alertname: Opt(Type.String()),
  firingAt: Opt(Type.String({ description: 'alert: when the alert fired (Alertmanager startsAt)' })),
  receivedAt: Opt(Type.String({ description: 'alert: when serve received the webhook' })),
  by: Opt(Type.String({ description: 'manual: who started the runbook, and how' })),
});
export const ProbeProgress = Event('probe-progress', {
  sent: Count,
  acked: Count,
  outageMs: Ms(),
  profile: Opt(Type.String({ description: 'the client profile (the judged one)' })),
});
export const DrillFinished = Event('drill-finished', {
  verdict: DrillVerdict,
  reasons: Type.Array(Type.String(), {
    description: 'why the verdict is what it is: each missed objective or failure, one line each',
  }),
  figures: DrillFigures,
  objectives: Objectives,
  phases: Type.Array(DrillPhase),
  restore: Strict({
    status: OneOf(['succeeded', 'failed', 'skipped']),
    runId: Opt(Type.String()),
    manualSteps: Opt(Type.Array(Type.String())),
  }),
});
/** Stopped without rollback (a signal, an unwritable journal): `resume` continues the run. */
export const RunStopped = Event('run-stopped', { reason: Type.String(), durationMs: Ms() });
export const RunFinished = Event('run-finished', {
  status: OneOf(RUN_STATUSES),
  durationMs: Ms(),
  failedStep: Opt(Type.String()),
  error: Opt(Type.String()),
  rtoMs: Opt(Ms()),
  rtoMet: Opt(Type.Boolean({ description: 'undefined when the runbook has no RTO objective' })),
});

export const RunEvent = Type.Union(
  [
    RunStarted,
    RunResumed,
    StepStarted,
    StepAttemptFailed,
    StepFinished,
    StepSkipped,
    ChildStarted,
    BudgetExceeded,
    RtoExceeded,
    RollbackStarted,
    ApprovalRequested,
    ApprovalGranted,
    ApprovalDenied,
    Log,
    DrillStarted,
    DrillTriggered,
    SteadyState,
    FaultInjected,
    FaultReverted,
    ProbeProgress,
    DrillFinished,
    RunStopped,
    RunFinished,
  ],
  {
    title: 'drillbook run event',
    $id: 'https://drillbook.dev/schemas/events.schema.json',
    description: 'one line of a journal (after its header), or of `--json` output of run, resume and drill',
  },
);

export type RunEvent = Static<typeof RunEvent>;
export type RunEventType = RunEvent['type'];
export type RunEventOf<K extends RunEventType> = Extract<RunEvent, { type: K }>;
type WithoutEnvelope<E> = E extends unknown ? Omit<E, 'runId' | 'ts' | 't' | 'formatVersion'> : never;
/** What the runner passes to `emit`: an event without its envelope. */
export type RunEventBody = WithoutEnvelope<RunEvent>;
export type StepPhase = Static<typeof StepPhase>;
export type StepSummary = Static<typeof StepSummary>;
export type InterruptedDecision = Static<typeof InterruptedDecision>;
export type DrillPhase = Static<typeof DrillPhase>;

/**
 * The `default:` of every switch over event types: a new event type does not compile until each
 * formatter and reader says what it does with it.
 */
export function unhandledEvent(event: never): never {
  throw new Error(`unhandled run event type ${(event as { type: string }).type}`);
}

/** The JSON text committed as schemas/events.schema.json (a test fails when it drifts). */
export const eventsSchemaJson = () => JSON.stringify(RunEvent, null, 2) + '\n';
