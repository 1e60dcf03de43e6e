// What a run is given before its first step (the spec, a resume's starting point, the runner's
// options) and what it returns: shared by the runner, the session and their callers.
import { actions as registry } from '../actions/registry.js';
import type { ActionDefinition, EnvContext } from '../actions/types.js';
import { parseDuration } from '../duration.js';
import { UserError } from '../errors.js';
import type { InputValues } from '../runbook/inputs.js';
import type { Runbook, Step } from '../runbook/schema.js';
import type { ApprovalPolicy } from './approvals.js';
import type { StepError } from './attempt.js';
import type { ChildRecord } from './children.js';
import type { StepResult } from './context.js';
import type { InterruptedDecision, RunEmitter, StepPhase, StepSummary } from './events.js';

/** Everything fixed before the first step. */
export interface RunSpec {
  runId: string;
  runbook: Runbook;
  runbookPath: string;
  runbookSha256: string;
  env: EnvContext;
  inputs: InputValues;
  /** `secrets.NAME` values (already registered with the emitter's redactor). */
  secrets: Record<string, string>;
  operator: string;
}

/** What a resumed run starts from (see resume.ts). */
export interface ResumeState {
  startedAt: string;
  /** Finished steps, main and rollback: not run again, outputs restored. */
  results: Record<string, StepResult>;
  /** The main phase had already failed: only rollback remains. */
  failed?: { stepId: string; error: string };
  rollbackStarted: boolean;
  interrupted?: { stepId: string; decision: InterruptedDecision };
  /** Processes the step in flight had started: they may have outlived the crash. */
  children: ChildRecord[];
}

export interface RunnerOptions {
  emitter: RunEmitter;
  /** The session's state directory: actions keep run files there (the Slack thread). */
  stateDir: string;
  /** Aborted on the first Ctrl-C: the current step stops, rollback runs. */
  signal?: AbortSignal;
  /**
   * Aborted when the run must stop without rollback and stay resumable (a signal, a journal that
   * cannot be written): no step starts after it, and a step it cuts short counts as in flight.
   * Its reason says why.
   */
  stop?: AbortSignal;
  approvals?: ApprovalPolicy;
  actions?: ReadonlyMap<string, ActionDefinition>;
  resolveSecret?: (ref: string) => Promise<string>;
  resume?: ResumeState;
}

export interface RunResult {
  /** stopped: by `stop`, without rollback; `resume` continues it. */
  status: 'succeeded' | 'failed' | 'interrupted' | 'stopped';
  failedStep?: string;
  /** The error that failed the run (its class gives the exit code). */
  error?: StepError;
  durationMs: number;
}

export const ms = (d: string | undefined) => (d === undefined ? undefined : parseDuration(d));

export const summarize = (steps: Step[], phase: StepPhase): StepSummary[] =>
  steps.map((s) => ({ id: s.id, kind: s.kind, name: s.name, budgetMs: ms(s.budget), phase }));

/** Kinds whose executor is not built yet are refused before anything runs. */
export function checkExecutable(runbook: Runbook, actions = registry): void {
  const missing = [...runbook.steps, ...(runbook.rollback ?? [])].filter((s) => !actions.get(s.kind)?.run);
  if (missing.length) {
    const kinds = [...new Set(missing.map((s) => s.kind))];
    throw new UserError(
      `this version of drillbook cannot execute action kind(s) ${kinds.join(', ')} (steps ${missing.map((s) => s.id).join(', ')}); "plan" shows them`,
    );
  }
}
