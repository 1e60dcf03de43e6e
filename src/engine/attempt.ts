// One attempt of a step: the action runs with a signal that aborts on the step timeout or on
// Ctrl-C, and the engine stops waiting at that moment even if the action does not honour it.
import { formatDuration } from '../duration.js';
import { StepFailure, UserError, errorMessage } from '../errors.js';

/** Errors a step can end with: StepFailure, or UserError when its input was bad. */
export type StepError = StepFailure | UserError;

export async function runAttempt<T>(
  stepId: string,
  work: (signal: AbortSignal) => Promise<T>,
  options: { timeoutMs?: number; runSignal?: AbortSignal },
): Promise<T> {
  const ac = new AbortController();
  const onRunAbort = () => ac.abort(options.runSignal?.reason);
  options.runSignal?.addEventListener('abort', onRunAbort, { once: true });
  if (options.runSignal?.aborted) onRunAbort();
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(
          () =>
            ac.abort(
              new StepFailure(`timed out after ${formatDuration(options.timeoutMs!)}`, {
                stepId,
                retryable: true,
                code: 'timeout',
              }),
            ),
          options.timeoutMs,
        );
  try {
    return await raceAbort(work(ac.signal), ac.signal);
  } catch (err) {
    throw asStepError(err, stepId);
  } finally {
    clearTimeout(timer);
    options.runSignal?.removeEventListener('abort', onRunAbort);
  }
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Whether a failed attempt may be tried again: the action marked it retryable and the step does
 * not list its code in `retry.nonRetryable` (e.g. a timeout that means the node hangs).
 */
export const mayRetry = (err: unknown, nonRetryable: readonly string[] = []): boolean =>
  err instanceof StepFailure && err.retryable && !(err.code !== undefined && nonRetryable.includes(err.code));

/** Bugs and library errors become non-retryable step failures carrying the step id. */
export function asStepError(err: unknown, stepId: string): StepError {
  if (err instanceof UserError) return err;
  if (err instanceof StepFailure)
    return err.stepId === stepId
      ? err
      : new StepFailure(err.message, { stepId, retryable: err.retryable, code: err.code, cause: err });
  return new StepFailure(errorMessage(err), { stepId, retryable: false, cause: err });
}
