// The typed stream of run events. The runner emits them; the journal, the terminal views (and later
// Slack and reports) subscribe. Every event is redacted before any subscriber sees it.
import type { RunEvent, RunEventBody } from '../schema/events.js';
import { Redactor, type Keep } from '../connectors/redact.js';

// The event types are derived from their schema (src/schema/events.ts); here for the engine's users.
export type {
  DrillPhase,
  InterruptedDecision,
  RunEvent,
  RunEventBody,
  RunEventOf,
  RunEventType,
  StepPhase,
  StepSummary,
} from '../schema/events.js';

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

  /** Every event carries `runId`, so a line of a journal or of `--json` output says whose it is. */
  constructor(
    readonly runId: string,
    readonly redactor = new Redactor(),
  ) {}

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
    const stamped = { ...body, runId: this.runId, ts: new Date().toISOString(), t: this.now() };
    const event = this.redactor.redact(stamped, journalStructure) as RunEvent;
    for (const fn of this.subscribers) fn(event);
  }
}
