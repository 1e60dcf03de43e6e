// What the runner gives one step: its action context (run-scoped services: state directory, run
// id, redactor, secrets, approvals), its budget watch, and its retries with backoff.
import pRetry from 'p-retry';
import type { ActionContext, Outputs } from '../actions/types.js';
import { childEnv } from '../system/child-env.js';
import { StepFailure, errorMessage } from '../errors.js';
import type { Step } from '../runbook/schema.js';
import { requestApproval } from './approvals.js';
import { processStartTime } from './children.js';
import { mayRetry } from './attempt.js';
import { evaluateCondition, stepSecretNames, type RunContext } from './context.js';
import type { RunEmitter } from './events.js';
import { ms, type RunSpec, type RunnerOptions } from './run-spec.js';

/** The context one attempt of `step` runs with; `onApproval` counts the step's approval waits. */
export function stepContext(
  step: Step,
  signal: AbortSignal,
  run: {
    spec: RunSpec;
    options: RunnerOptions;
    ctx: RunContext;
    onApproval(answer: { waitMs: number }): void;
  },
): ActionContext {
  const { emitter } = run.options;
  return {
    signal,
    env: run.spec.env,
    runId: run.spec.runId,
    stepId: step.id,
    stateDir: run.options.stateDir,
    secret: (ref) => emitter.redactor.resolve(ref, run.options.resolveSecret),
    redactor: emitter.redactor,
    childEnv: () => childEnv(stepSecretNames(step)),
    log: (message) => emitter.emit({ type: 'log', stepId: step.id, level: 'info', message }),
    warn: (message) => emitter.emit({ type: 'log', stepId: step.id, level: 'warn', message }),
    child: (pid) =>
      emitter.emit({ type: 'child-started', stepId: step.id, pid, startTime: processStartTime(pid) }),
    evaluate: (expression) => evaluateCondition(expression, run.ctx),
    requestApproval: async (request) => {
      const answer = await requestApproval(run.options.approvals ?? {}, emitter, step.id, request, signal);
      run.onApproval(answer);
      return answer;
    },
  };
}

/** Emits `budget-exceeded` once when the step started at `start` runs past its budget. */
export function watchBudget(
  emitter: RunEmitter,
  stepId: string,
  budgetMs: number | undefined,
  start: number,
) {
  let reported = false;
  let timer: NodeJS.Timeout | undefined;
  const report = () => {
    const elapsedMs = emitter.now() - start;
    // Timers may fire a fraction of a millisecond early on the monotonic clock: wait the rest.
    if (elapsedMs < budgetMs!) {
      timer = setTimeout(report, Math.ceil(budgetMs! - elapsedMs));
      return;
    }
    reported = true;
    emitter.emit({ type: 'budget-exceeded', stepId, budgetMs: budgetMs!, elapsedMs });
  };
  if (budgetMs !== undefined) timer = setTimeout(report, budgetMs);
  return {
    clear: () => clearTimeout(timer),
    /** At the step's end: a miss the timer had not reported yet. */
    reportIfMissed(durationMs: number) {
      if (budgetMs !== undefined && !reported && durationMs > budgetMs) report();
    },
  };
}

/** Retries only failures the action marked retryable, with the step's backoff. */
export function withRetries(
  step: Step,
  attempt: (n: number) => Promise<Outputs>,
  runSignal: AbortSignal | undefined,
  emitter: RunEmitter,
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
      emitter.emit({
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
