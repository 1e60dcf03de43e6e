// The typed stream of run events. The runner emits them; the journal, the terminal views (and later
// Slack and reports) subscribe. Every event is redacted before any subscriber sees it.
import type { Outputs } from '../actions/types.js';
import type { DrillFigures, DrillVerdict, Objectives } from '../schema/drill-outcome.js';
import { Redactor, type Keep } from '../connectors/redact.js';

/** Main steps, or the compensation steps that run after a failure. */
export type StepPhase = 'main' | 'rollback';

export interface StepSummary {
  id: string;
  kind: string;
  name?: string;
  budgetMs?: number;
  phase: StepPhase;
}

/** How a resumed run treats the step that was in flight when the process died. */
export type InterruptedDecision = 'retry' | 'skip' | 'check';

export type RunEventBody =
  | {
      type: 'run-started';
      runId: string;
      runbook: { name: string; path: string; sha256: string };
      environment: { name: string; label: string };
      operator: string;
      rtoMs?: number;
      steps: StepSummary[];
    }
  | {
      type: 'run-resumed';
      runId: string;
      operator: string;
      /** Steps finished before the interruption: not run again, outputs restored. */
      restored: string[];
      interrupted?: { stepId: string; decision: InterruptedDecision };
    }
  | {
      type: 'step-started';
      stepId: string;
      kind: string;
      phase: StepPhase;
      /** The rendered `with:` input. */
      input: unknown;
      budgetMs?: number;
      timeoutMs?: number;
      attempts: number;
    }
  | {
      type: 'step-attempt-failed';
      stepId: string;
      attempt: number;
      error: string;
      retryable: boolean;
      /** Whether another attempt follows, after delayMs. */
      willRetry: boolean;
      delayMs?: number;
    }
  | {
      type: 'step-finished';
      stepId: string;
      phase: StepPhase;
      status: 'succeeded' | 'failed';
      /** Wall time on the monotonic clock, approval waits included. */
      durationMs: number;
      /** Time spent waiting for a human (approvals): durationMs - waitMs is machine time. */
      waitMs: number;
      attempts: number;
      outputs: Outputs;
      error?: string;
      /** A failure that did not stop the run (continueOnError). */
      continued?: boolean;
      /** On resume: the step's effect was found in place (alreadyDone) and not redone. */
      alreadyDone?: boolean;
    }
  | {
      type: 'step-skipped';
      stepId: string;
      phase: StepPhase;
      reason: 'when' | 'interrupted';
      detail?: string;
    }
  /** A process a step started (its own process group), so a resume can find it if it outlived a crash. */
  | { type: 'child-started'; stepId: string; pid: number; startTime: string }
  | { type: 'budget-exceeded'; stepId: string; budgetMs: number; elapsedMs: number }
  | { type: 'rto-exceeded'; rtoMs: number; elapsedMs: number }
  | { type: 'rollback-started'; failedStep: string; error: string; steps: StepSummary[] }
  | { type: 'approval-requested'; stepId: string; message: string; approvers?: string[] }
  | { type: 'approval-granted'; stepId: string; by: string; waitMs: number }
  | { type: 'approval-denied'; stepId: string; by: string; waitMs: number }
  | { type: 'log'; stepId?: string; level: 'info' | 'warn'; message: string }
  // Drill events: a drill is a run of its runbook with a fault and a probe around it (src/drill).
  | {
      type: 'drill-started';
      drill: { name: string; path: string };
      fault: { kind: string; node: string; durationMs?: number };
      objectives: Objectives;
      probe: { route: string; intervalMs: number };
    }
  | { type: 'steady-state'; healthy: boolean; problems: string[]; lagBytes: Record<string, number> }
  /** `at` is on the run's monotonic clock (the same as every event's `t`). */
  | { type: 'fault-injected'; kind: string; node: string; at: number; detail: string }
  | { type: 'fault-reverted'; kind: string; node: string; detail: string; error?: string }
  | { type: 'probe-progress'; sent: number; acked: number; outageMs: number }
  | {
      type: 'drill-finished';
      verdict: DrillVerdict;
      /** Why the verdict is what it is: each missed objective or failure, one line each. */
      reasons: string[];
      figures: DrillFigures;
      objectives: Objectives;
      phases: DrillPhase[];
      restore: { status: 'succeeded' | 'failed' | 'skipped'; runId?: string; manualSteps?: string[] };
    }
  | {
      /** Stopped without rollback (a signal, an unwritable journal): `resume` continues the run. */
      type: 'run-stopped';
      reason: string;
      durationMs: number;
    }
  | {
      type: 'run-finished';
      status: 'succeeded' | 'failed' | 'interrupted';
      durationMs: number;
      failedStep?: string;
      error?: string;
      rtoMs?: number;
      /** Undefined when the runbook has no RTO objective. */
      rtoMet?: boolean;
    };

/** A failover phase (detect, decide, promote, route, validate) from the runbook's steps. */
export interface DrillPhase {
  phase: string;
  steps: string[];
  durationMs: number;
  /** Time waiting for approvals within the phase, counted apart. */
  waitMs: number;
  budgetMs?: number;
  met?: boolean;
}

/** What subscribers receive: the body plus when it happened. */
export type RunEvent = RunEventBody & {
  /** Wall-clock time (ISO 8601), for people and reports. */
  ts: string;
  /** Monotonic milliseconds since this process started the run, for durations. */
  t: number;
};

export type RunEventType = RunEvent['type'];
export type Subscriber = (event: RunEvent) => void;

/**
 * The journal's structure (its header and events): what readers, resume and the reports' directory
 * names rely on. Kept as it is even when a secret's text occurs in it (a secret `step` must not turn
 * `step-started` into `***-started`); everything else is redacted.
 */
const STRUCTURE = new Set([
  // header
  'version',
  'createdAt',
  'runbook',
  'inventory',
  'environment',
  'pid',
  // events
  'type',
  'ts',
  't',
  'runId',
  'stepId',
  'kind',
  'phase',
  'status',
  'reason',
  'verdict',
  'failedStep',
  'restored',
  'interrupted',
  'steps.*.id',
  'steps.*.kind',
  'steps.*.phase',
  'phases.*.phase',
  'phases.*.steps',
  'fault.kind',
  'fault.node',
]);
export const journalStructure: Keep = (path) => STRUCTURE.has(path);

export class RunEmitter {
  private subscribers: Subscriber[] = [];
  private readonly origin = performance.now();

  constructor(readonly redactor = new Redactor()) {}

  subscribe(fn: Subscriber): () => void {
    this.subscribers.push(fn);
    return () => {
      this.subscribers = this.subscribers.filter((s) => s !== fn);
    };
  }

  /** Monotonic milliseconds since the emitter was created. */
  now(): number {
    return performance.now() - this.origin;
  }

  /** Stamps, redacts and delivers synchronously, so the journal is written before the step goes on. */
  emit(body: RunEventBody): void {
    const stamped = { ...body, ts: new Date().toISOString(), t: this.now() };
    const event = this.redactor.redact(stamped, journalStructure) as RunEvent;
    for (const fn of this.subscribers) fn(event);
  }
}
