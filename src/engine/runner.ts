// The runner: steps in order (when, render, validate, attempts with timeout and retries), outputs
// into the context, budgets and the RTO watched, rollback after a failure. It only emits events.
import { actions as registry } from '../actions/registry.js';
import type { ActionDefinition, Outputs } from '../actions/types.js';
import { StepFailure, errorMessage } from '../errors.js';
import type { Step } from '../runbook/schema.js';
import { asStepError, runAttempt, type StepError } from './attempt.js';
import { evaluateCondition, type RunContext } from './context.js';
import type { RunEmitter, StepPhase } from './events.js';
import { renderInput } from './input.js';
import { ms, summarize, type RunResult, type RunSpec, type RunnerOptions } from './run-spec.js';
import { stepContext, watchBudget, withRetries } from './step-services.js';

/** A step or phase cut short by `stop`: nothing more runs, nothing is rolled back. */
const STOPPED = Symbol('stopped');
type Stopped = typeof STOPPED;

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
        operator: spec.operator,
        restored: Object.keys(resume.results),
        interrupted: resume.interrupted,
      });
    } else {
      emitter.emit({
        type: 'run-started',
        runbook: { name: spec.runbook.metadata.name, path: spec.runbookPath, sha256: spec.runbookSha256 },
        environment: { name: spec.env.name, label: spec.env.label },
        operator: spec.operator,
        rtoMs: this.rtoMs,
        steps: summarize(spec.runbook.steps, 'main'),
      });
    }
    this.watchRto();
    let failure: { stepId: string; error: StepError } | Stopped | undefined = resume?.failed && {
      stepId: resume.failed.stepId,
      error: new StepFailure(resume.failed.error, { stepId: resume.failed.stepId }),
    };
    let stopped = false;
    try {
      if (!failure) failure = await this.runMain();
      if (failure === STOPPED) stopped = true;
      else if (failure) stopped = (await this.runRollback(failure.stepId, failure.error)) === STOPPED;
    } finally {
      clearTimeout(this.rtoTimer);
    }
    const durationMs = this.elapsed();
    if (stopped || failure === STOPPED) {
      const reason = errorMessage(options.stop?.reason);
      emitter.emit({ type: 'run-stopped', reason, durationMs });
      return { status: 'stopped', error: new StepFailure(reason), durationMs };
    }
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

  private async runMain(): Promise<{ stepId: string; error: StepError } | Stopped | undefined> {
    for (const step of this.spec.runbook.steps) {
      if (this.ctx.steps[step.id]) continue; // finished before a resume
      if (this.options.stop?.aborted) return STOPPED;
      if (this.options.signal?.aborted) {
        return { stepId: step.id, error: asStepError(this.options.signal.reason, step.id) };
      }
      const error = await this.runStep(step, 'main', this.options.signal);
      if (error === STOPPED) return STOPPED;
      if (error && !step.continueOnError) return { stepId: step.id, error };
    }
    return undefined;
  }

  /** Every rollback step is attempted, whatever happened to the ones before it (unless stopped). */
  private async runRollback(failedStep: string, error: StepError): Promise<Stopped | undefined> {
    const steps = this.spec.runbook.rollback ?? [];
    this.ctx.run.failedStep = failedStep;
    this.ctx.run.error = errorMessage(error);
    if (!steps.length) return undefined;
    if (!this.options.resume?.rollbackStarted) {
      this.emitter.emit({
        type: 'rollback-started',
        failedStep,
        error: errorMessage(error),
        steps: summarize(steps, 'rollback'),
      });
    }
    // Ctrl-C aborted the main steps; compensation runs without that signal (a second Ctrl-C exits).
    // A stop lets the compensation in progress finish, then leaves the rest to `resume`.
    for (const step of steps) {
      if (this.ctx.steps[step.id]) continue;
      if (this.options.stop?.aborted || (await this.runStep(step, 'rollback', undefined)) === STOPPED)
        return STOPPED;
    }
    return undefined;
  }

  /**
   * Whether the step is skipped (its `when`, --skip-interrupted), else its rendered input, or the
   * error that rendering it (or evaluating `when`) raised.
   */
  private prepareStep(
    step: Step,
    action: ActionDefinition,
    skipInterrupted: boolean,
  ): {
    skip?: { reason: 'when' | 'interrupted'; detail?: string };
    input?: Record<string, unknown>;
    early?: StepError;
  } {
    try {
      if (step.when !== undefined && !evaluateCondition(step.when, this.ctx))
        return { skip: { reason: 'when', detail: step.when } };
      if (skipInterrupted)
        return {
          skip: {
            reason: 'interrupted',
            detail: 'in flight when the run was interrupted; skipped (--skip-interrupted)',
          },
        };
      return { input: renderInput(step, action, this.ctx) };
    } catch (err) {
      return { early: asStepError(err, step.id) };
    }
  }

  /** Runs one step to its end; returns its error when it failed, STOPPED when a stop cut it short. */
  private async runStep(
    step: Step,
    phase: StepPhase,
    runSignal: AbortSignal | undefined,
  ): Promise<StepError | Stopped | undefined> {
    const { emitter, ctx } = this;
    const action = this.actions.get(step.kind)!;
    const interrupted = this.options.resume?.interrupted;
    const decision = interrupted?.stepId === step.id ? interrupted.decision : undefined;
    const { skip, input, early } = this.prepareStep(step, action, decision === 'skip');
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
    // The journal may have failed to record the start: then the step must not act at all.
    if (this.options.stop?.aborted) return STOPPED;
    const budget = watchBudget(emitter, step.id, budgetMs, start);

    const actionContext = (signal: AbortSignal) =>
      stepContext(step, signal, {
        spec: this.spec,
        options: this.options,
        ctx,
        onApproval: (answer) => (waitMs += answer.waitMs),
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
          done ?? (maxAttempts > 1 ? await withRetries(step, attempt, runSignal, emitter) : await attempt(1));
      } catch (err) {
        error = asStepError(err, step.id);
      }
    }
    budget.clear();
    // Cut short by a stop: its effect is unknown, so it stays in flight for `resume` (crash rules).
    if (error && this.options.stop?.aborted) return STOPPED;
    const durationMs = emitter.now() - start;
    budget.reportIfMissed(durationMs);
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
}
