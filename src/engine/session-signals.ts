// Ctrl-C and SIGTERM during a session. A signal to a plain run stops it resumable (no rollback:
// `resume` continues it under the crash rules); a drill instead aborts its runbook and reverts its
// fault. A second signal exits at once. Either way the exit code is the signal's.
import { constants as osConstants } from 'node:os';
import { StepFailure } from '../errors.js';

/** The conventional exit code of a process ended by `signal`: 130 for SIGINT, 143 for SIGTERM. */
export const signalExitCode = (signal: NodeJS.Signals) => 128 + osConstants.signals[signal];

export interface SessionSignals {
  /** Aborted to stop the run resumable, without rollback (a signal to a plain run, a journal failure). */
  stop: AbortController;
  /** Aborted to interrupt the run: the current step stops, rollback runs. */
  interrupt: AbortController;
  /** The signal the process received, if any. */
  signalled(): NodeJS.Signals | undefined;
  /** Once the lock is released: the handlers go (a signalled process still exits with the signal's code). */
  release(): void;
}

export function sessionSignals(o: {
  runId: string;
  /** A plain run (not a drill): a signal stops it resumable instead of rolling back. */
  resumable: boolean;
  /**
   * Where interruptions come from: the process's SIGINT and SIGTERM, the caller's abort (the
   * scheduler daemon handles signals itself), or nowhere (a run inside another session).
   */
  source: 'process' | AbortSignal | 'none';
  warn(message: string): void;
  /** Aborted by the caller to stop the run resumably, as a signal does (`drillbook serve` shutting down). */
  stopSource?: AbortSignal;
  /** What must happen before an immediate exit: synchronous only (journal, reports, lock files). */
  beforeExit(): void;
}): SessionSignals {
  const stop = new AbortController();
  const interrupt = new AbortController();
  let signalled: NodeJS.Signals | undefined;
  const exitNow = (signal: NodeJS.Signals) => {
    o.beforeExit();
    process.exit(signalExitCode(signal));
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return exitNow(signal);
    signalled = signal;
    if (o.resumable) {
      o.warn(
        `${signal}: stopping the current step, no rollback; the run stays resumable (drillbook resume ${o.runId}); signal again to exit at once`,
      );
      stop.abort(new StepFailure(`stopped by ${signal}`));
    } else o.warn(`${signal}: stopping the current step, then rollback; signal again to exit at once`);
    interrupt.abort(new StepFailure(`interrupted by ${signal}`));
  };
  const onCallerAbort = () => {
    o.warn('interrupt: stopping the current step, then rollback');
    interrupt.abort(new StepFailure('interrupted by the operator'));
  };
  const onCallerStop = () => {
    o.warn(`stopping the current step, no rollback; the run stays resumable (drillbook resume ${o.runId})`);
    stop.abort(new StepFailure('stopped: drillbook serve is shutting down'));
    interrupt.abort(new StepFailure('stopped: drillbook serve is shutting down'));
  };
  o.stopSource?.addEventListener('abort', onCallerStop, { once: true });
  const { source } = o;
  if (source instanceof AbortSignal) source.addEventListener('abort', onCallerAbort, { once: true });
  else if (source === 'process') {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  return {
    stop,
    interrupt,
    signalled: () => signalled,
    release() {
      o.stopSource?.removeEventListener('abort', onCallerStop);
      if (source instanceof AbortSignal) source.removeEventListener('abort', onCallerAbort);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      // Signalled, the process is on its way out (a step's kill timer may keep it a moment): another
      // signal meanwhile still ends it with the signal's code, not by the default action.
      if (signalled) for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, exitNow);
    },
  };
}
