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
  // The engine's own wait ends through this promise, not a listener on ac.signal: in Node 20 a new
  // signal given a listener lives until the next full GC, and a long run's attempts filled the old
  // generation with them (~2 KB a step, tens of MB at 10,000 steps).
  let stopWaiting!: (reason: unknown) => void;
  const aborted = new Promise<never>((_, reject) => (stopWaiting = reject));
  aborted.catch(() => undefined);
  const abort = (reason: unknown) => {
    ac.abort(reason);
    stopWaiting(ac.signal.reason);
  };
  const onRunAbort = () => abort(options.runSignal?.reason);
  options.runSignal?.addEventListener('abort', onRunAbort, { once: true });
  if (options.runSignal?.aborted) onRunAbort();
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(
          () =>
            abort(
              new StepFailure(`timed out after ${formatDuration(options.timeoutMs!)}`, {
                stepId,
                retryable: true,
                code: 'timeout',
              }),
            ),
          options.timeoutMs,
        );
  try {
    const done = work(ac.signal);
    if (ac.signal.aborted) {
      done.catch(() => undefined);
      throw ac.signal.reason;
    }
    return await Promise.race([done, aborted]);
  } catch (err) {
    throw asStepError(err, stepId);
  } finally {
    clearTimeout(timer);
    options.runSignal?.removeEventListener('abort', onRunAbort);
  }
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
