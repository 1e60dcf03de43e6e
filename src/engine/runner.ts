// The runner: steps in order (when, render, validate, attempts with timeout and retries), outputs
// into the context, budgets and the RTO watched, rollback after a failure. It only emits events.
import pRetry from 'p-retry';
import { actions as registry } from '../actions/registry.js';
import type { ActionContext, ActionDefinition, EnvContext, Outputs } from '../actions/types.js';
import { childEnv } from '../connectors/secrets.js';
import { parseDuration } from '../duration.js';
import { StepFailure, UserError, errorMessage } from '../errors.js';
import type { InputValues } from '../runbook/inputs.js';
import type { Runbook, Step } from '../schema/runbook.js';
import { requestApproval, type ApprovalPolicy } from './approvals.js';
import { asStepError, mayRetry, runAttempt, type StepError } from './attempt.js';
import { evaluateCondition, stepSecretNames, type RunContext, type StepResult } from './context.js';
import type { InterruptedDecision, RunEmitter, StepPhase, StepSummary } from './events.js';
import { renderInput } from './input.js';

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
}

export interface RunnerOptions {
  emitter: RunEmitter;
  /** Aborted on the first Ctrl-C: the current step stops, rollback runs. */
  signal?: AbortSignal;
  approvals?: ApprovalPolicy;
  actions?: ReadonlyMap<string, ActionDefinition>;
  resolveSecret?: (ref: string) => Promise<string>;
  resume?: ResumeState;
}

export interface RunResult {
  status: 'succeeded' | 'failed' | 'interrupted';
  failedStep?: string;
  /** The error that failed the run (its class gives the exit code). */
  error?: StepError;
  durationMs: number;
}

const ms = (d: string | undefined) => (d === undefined ? undefined : parseDuration(d));

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

export async function executeRun(spec: RunSpec, options: RunnerOptions): Promise<RunResult> {
  return new Runner(spec, options).run();
}

class Runner {
  private readonly emitter: RunEmitter;
  private readonly actions: ReadonlyMap<string, ActionDefinition>;
  private readonly ctx: RunContext;
  /** Run time before this process took over (a resumed run counts from its first start). */
  private readonly priorMs: number;
  private readonly startMono: number;
  private readonly rtoMs?: number;

  constructor(
    private readonly spec: RunSpec,
    private readonly options: RunnerOptions,
  ) {
    this.emitter = options.emitter;
    this.actions = options.actions ?? registry;
    const startedAt = options.resume?.startedAt ?? new Date().toISOString();
    this.priorMs = options.resume ? Math.max(0, Date.now() - Date.parse(startedAt)) : 0;
    this.startMono = this.emitter.now();
    this.rtoMs = ms(spec.runbook.objectives?.rto);
    this.ctx = {
      inputs: spec.inputs,
      env: spec.env,
      steps: { ...options.resume?.results },
      secrets: spec.secrets,
      run: {
        id: spec.runId,
        operator: spec.operator,
        startedAt,
        runbook: spec.runbook.metadata.name,
        dryRun: false,
        environment: spec.env.name,
      },
    };
  }

  /** Run time so far: monotonic in this process, wall clock across a crash. */
  private elapsed(): number {
    return this.priorMs + this.emitter.now() - this.startMono;
  }

  async run(): Promise<RunResult> {
    const { spec, options, emitter } = this;
    const resume = options.resume;
    if (resume) {
      emitter.emit({
        type: 'run-resumed',
        runId: spec.runId,
        operator: spec.operator,
        restored: Object.keys(resume.results),
        interrupted: resume.interrupted,
      });
    } else {
      emitter.emit({
        type: 'run-started',
        runId: spec.runId,
        runbook: { name: spec.runbook.metadata.name, path: spec.runbookPath, sha256: spec.runbookSha256 },
        environment: { name: spec.env.name, label: spec.env.label },
        operator: spec.operator,
        rtoMs: this.rtoMs,
        steps: summarize(spec.runbook.steps, 'main'),
      });
    }
    this.watchRto();
    let failure: { stepId: string; error: StepError } | undefined = resume?.failed && {
      stepId: resume.failed.stepId,
      error: new StepFailure(resume.failed.error, { stepId: resume.failed.stepId }),
    };
    try {
      if (!failure) failure = await this.runMain();
      if (failure) await this.runRollback(failure.stepId, failure.error);
    } finally {
      clearTimeout(this.rtoTimer);
    }
    const durationMs = this.elapsed();
    const status = !failure ? 'succeeded' : options.signal?.aborted ? 'interrupted' : 'failed';
    emitter.emit({
      type: 'run-finished',
      status,
      durationMs,
      failedStep: failure?.stepId,
      error: failure && errorMessage(failure.error),
      rtoMs: this.rtoMs,
      rtoMet: this.rtoMs === undefined ? undefined : durationMs <= this.rtoMs,
    });
    return { status, failedStep: failure?.stepId, error: failure?.error, durationMs };
  }

  private rtoTimer?: NodeJS.Timeout;

  private watchRto(): void {
    const rto = this.rtoMs;
    if (rto === undefined) return;
    const fire = () => {
      const left = rto - this.elapsed();
      // Timers may fire a fraction of a millisecond early on the monotonic clock: wait the rest.
      if (left > 0) this.rtoTimer = setTimeout(fire, Math.ceil(left));
      else this.emitter.emit({ type: 'rto-exceeded', rtoMs: rto, elapsedMs: this.elapsed() });
    };
    this.rtoTimer = setTimeout(fire, Math.max(0, rto - this.elapsed()));
  }

  private async runMain(): Promise<{ stepId: string; error: StepError } | undefined> {
    for (const step of this.spec.runbook.steps) {
      if (this.ctx.steps[step.id]) continue; // finished before a resume
      if (this.options.signal?.aborted) {
        return { stepId: step.id, error: asStepError(this.options.signal.reason, step.id) };
      }
      const error = await this.runStep(step, 'main', this.options.signal);
      if (error && !step.continueOnError) return { stepId: step.id, error };
    }
    return undefined;
  }

  /** Every rollback step is attempted, whatever happened to the ones before it. */
  private async runRollback(failedStep: string, error: StepError): Promise<void> {
    const steps = this.spec.runbook.rollback ?? [];
    this.ctx.run.failedStep = failedStep;
    this.ctx.run.error = errorMessage(error);
    if (!steps.length) return;
    if (!this.options.resume?.rollbackStarted) {
      this.emitter.emit({
        type: 'rollback-started',
        failedStep,
        error: errorMessage(error),
        steps: summarize(steps, 'rollback'),
      });
    }
    // Ctrl-C aborted the main steps; compensation runs without that signal (a second Ctrl-C exits).
    for (const step of steps) if (!this.ctx.steps[step.id]) await this.runStep(step, 'rollback', undefined);
  }

  /** Runs one step to its end; returns its error when it failed. */
  private async runStep(step: Step, phase: StepPhase, runSignal: AbortSignal | undefined) {
    const { emitter, ctx } = this;
    const action = this.actions.get(step.kind)!;
    const interrupted = this.options.resume?.interrupted;
    const decision = interrupted?.stepId === step.id ? interrupted.decision : undefined;
    let skip: { reason: 'when' | 'interrupted'; detail?: string } | undefined;
    let input: Record<string, unknown> | undefined;
    let early: StepError | undefined;
    try {
      if (step.when !== undefined && !evaluateCondition(step.when, ctx))
        skip = { reason: 'when', detail: step.when };
      else if (decision === 'skip')
        skip = {
          reason: 'interrupted',
          detail: 'in flight when the run was interrupted; skipped (--skip-interrupted)',
        };
      else input = renderInput(step, action, ctx);
    } catch (err) {
      early = asStepError(err, step.id);
    }
    if (skip) {
      ctx.steps[step.id] = { status: 'skipped', outputs: {} };
      emitter.emit({ type: 'step-skipped', stepId: step.id, phase, ...skip });
      return undefined;
    }

    const budgetMs = ms(step.budget);
    const timeoutMs = ms(step.timeout);
    const maxAttempts = step.retry?.attempts ?? 1;
    const start = emitter.now();
    let waitMs = 0;
    let attempts = 0;
    emitter.emit({
      type: 'step-started',
      stepId: step.id,
      kind: step.kind,
      phase,
      input: input ?? step.with,
      budgetMs,
      timeoutMs,
      attempts: maxAttempts,
    });
    let budgetReported = false;
    let budgetTimer: NodeJS.Timeout | undefined;
    const reportBudget = () => {
      const elapsedMs = emitter.now() - start;
      // Timers may fire a fraction of a millisecond early on the monotonic clock: wait the rest.
      if (elapsedMs < budgetMs!) {
        budgetTimer = setTimeout(reportBudget, Math.ceil(budgetMs! - elapsedMs));
        return;
      }
      budgetReported = true;
      emitter.emit({ type: 'budget-exceeded', stepId: step.id, budgetMs: budgetMs!, elapsedMs });
    };
    if (budgetMs !== undefined) budgetTimer = setTimeout(reportBudget, budgetMs);

    const actionContext = (signal: AbortSignal): ActionContext => ({
      signal,
      env: this.spec.env,
      runId: this.spec.runId,
      stepId: step.id,
      secret: (ref) => emitter.redactor.resolve(ref, this.options.resolveSecret),
      redactor: emitter.redactor,
      childEnv: () => childEnv(stepSecretNames(step)),
      log: (message) => emitter.emit({ type: 'log', stepId: step.id, level: 'info', message }),
      evaluate: (expression) => evaluateCondition(expression, ctx),
      requestApproval: async (request) => {
        const answer = await requestApproval(this.options.approvals ?? {}, emitter, step.id, request, signal);
        waitMs += answer.waitMs;
        return answer;
      },
    });
    const attempt = (n: number) => {
      attempts = n;
      return runAttempt(step.id, (signal) => action.run!(actionContext(signal), input!), {
        timeoutMs,
        runSignal,
      });
    };

    let outputs: Outputs = {};
    let error = early;
    let alreadyDone = false;
    if (!error) {
      try {
        const done =
          decision === 'check' && action.alreadyDone
            ? await runAttempt(step.id, (signal) => action.alreadyDone!(actionContext(signal), input!), {
                timeoutMs,
                runSignal,
              })
            : undefined;
        alreadyDone = done !== undefined;
        outputs =
          done ?? (maxAttempts > 1 ? await this.withRetries(step, attempt, runSignal) : await attempt(1));
      } catch (err) {
        error = asStepError(err, step.id);
      }
    }
    clearTimeout(budgetTimer);
    const durationMs = emitter.now() - start;
    if (budgetMs !== undefined && !budgetReported && durationMs > budgetMs) reportBudget();
    ctx.steps[step.id] = { status: error ? 'failed' : 'succeeded', outputs, durationMs };
    emitter.emit({
      type: 'step-finished',
      stepId: step.id,
      phase,
      status: error ? 'failed' : 'succeeded',
      durationMs,
      waitMs,
      attempts: Math.max(attempts, 1),
      outputs,
      ...(error && { error: errorMessage(error), continued: phase === 'main' && !!step.continueOnError }),
      ...(alreadyDone && { alreadyDone }),
    });
    return error;
  }

  /** Retries only failures the action marked retryable, with the step's backoff. */
  private withRetries(
    step: Step,
    attempt: (n: number) => Promise<Outputs>,
    runSignal: AbortSignal | undefined,
  ) {
    const retry = step.retry!;
    const delay = ms(retry.delay) ?? 1000;
    const factor = retry.factor ?? 1;
    const maxDelay = ms(retry.maxDelay) ?? Infinity;
    const retryable = (e: unknown) => mayRetry(e, retry.nonRetryable) && !runSignal?.aborted;
    return pRetry(attempt, {
      retries: retry.attempts - 1,
      minTimeout: delay,
      factor,
      maxTimeout: maxDelay,
      randomize: false,
      signal: runSignal,
      shouldRetry: ({ error }) => retryable(error),
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
        const willRetry = retryable(error) && retriesLeft > 0;
        this.emitter.emit({
          type: 'step-attempt-failed',
          stepId: step.id,
          attempt: attemptNumber,
          error: errorMessage(error),
          retryable: error instanceof StepFailure && error.retryable,
          willRetry,
          ...(willRetry && { delayMs: Math.min(delay * factor ** (attemptNumber - 1), maxDelay) }),
        });
      },
    });
  }
}
