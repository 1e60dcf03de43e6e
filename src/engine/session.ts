// One run (or resume) as a session: lock, signals, then the runner. This is where the process meets
// the engine; the runner itself neither prints nor touches signals. What records the run and what
// people see of it (the journal, views, reports, a Slack thread) the caller attaches.
import { hostname } from 'node:os';
import { resolveSecretRef } from '../connectors/secrets.js';
import { ExitCode, exitCodeFor } from '../errors.js';
import { actions as registry } from '../actions/registry.js';
import type { InputValues } from '../runbook/inputs.js';
import type { AskApproval } from './approvals.js';
import { settleOrphans, type OrphanPolicy } from './children.js';
import { RunEmitter } from './events.js';
import type { StateWriteFailed } from './journal.js';
import { acquireRunLock, type HeldLock } from './lock.js';
import { registerRunSecrets } from './run-secrets.js';
import type { ResumeState, RunResult, RunSpec } from './run-spec.js';
import { executeRun } from './runner.js';
import { sessionSignals, signalExitCode } from './session-signals.js';

/** What a session gives what its caller attaches to it. */
export interface SessionServices {
  runId: string;
  stateDir: string;
  emitter: RunEmitter;
  /** Resolves a secret reference and registers its value for redaction. */
  secret(ref: string): Promise<string>;
  /**
   * The run's state could not be written (the journal on a full disk): the current step ends, no
   * later step starts, and the run ends resumable with one line naming the cause.
   */
  stateWriteFailed(error: StateWriteFailed): void;
}

/**
 * Something attached to a run (the journal, a view, the reports, a Slack thread); every hook is
 * optional. Attachments finish in the reverse order of attaching: the first attached (the journal)
 * records to the end.
 */
export interface Attachment {
  /** After the run ended normally: waits for what must be done first (a live view's last frame). */
  settled?(): Promise<void>;
  /** After the run (and its wrapper) ended, and after the attachments attached later; never throws. */
  finish?(): Promise<void>;
  /** Instead of `finish` when the process exits at once (a second signal): synchronous work only. */
  finishNow?(): void;
}

/** Called in order once the lock is held, before anything acts. */
export type Attach = (services: SessionServices) => Promise<Attachment>;

export interface SessionOptions {
  stateDir: string;
  yes?: boolean;
  approve?: string[];
  /** Asks an operator about an approval that was not given in advance. */
  ask?: AskApproval;
  /** The journal, views, reports, Slack: what the run's events go to, in this order. */
  attach?: readonly Attach[];
  resume?: ResumeState;
  /** On resume: what to do with a command of the crashed run that still runs. */
  orphans?: { policy: OrphanPolicy; waitMs: number };
  /**
   * Aborting it interrupts the run as Ctrl-C does (the current step stops, rollback runs); when
   * given, the session leaves the process's signals to its caller.
   */
  signal?: AbortSignal;
  /** Aborting it stops the run resumably, without rollback, as SIGTERM stops a plain run. */
  stopSignal?: AbortSignal;
  /**
   * A run inside another session (a drill's restore): it runs under that session's lock and
   * signals, so it takes neither.
   */
  nested?: boolean;
  /** Work around the runbook under the same lock and journal (a drill); returns the exit code. */
  around?: RunWrapper;
}

export interface WrapContext {
  emitter: RunEmitter;
  /** Aborted by Ctrl-C / SIGTERM. */
  signal: AbortSignal;
  secret(ref: string): Promise<string>;
  /**
   * Runs the runbook itself (once), stopped early when `signal` aborts; `inputs` set values known
   * only once the wrapper has acted (a drill's fault facts).
   */
  execute(signal?: AbortSignal, inputs?: InputValues): Promise<RunResult>;
}

export type RunWrapper = (ctx: WrapContext) => Promise<number>;

export const exitCodeOf = (result: RunResult) =>
  result.status === 'succeeded'
    ? ExitCode.ok
    : result.status === 'interrupted' || result.status === 'stopped'
      ? ExitCode.failed
      : exitCodeFor(result.error);

/**
 * Runs the spec under the environment's lock (and its runbook's `lock:`) with what the caller
 * attaches; returns the exit code. `io.err` says why a run stopped on a journal failure.
 */
export async function runSession(
  spec: RunSpec,
  o: SessionOptions,
  io: { err(text: string): void },
): Promise<number> {
  const emitter = new RunEmitter(spec.runId);
  await registerRunSecrets(emitter.redactor, spec.env, spec.secrets);
  const secret = (ref: string) => emitter.redactor.resolve(ref);
  const warn = (message: string) => emitter.emit({ type: 'log', level: 'warn', message });
  let lock: HeldLock | undefined;
  const attached: Attachment[] = [];
  const lastFirst = () => [...attached].reverse();
  let journalFailure: StateWriteFailed | undefined;
  // The handlers stay from before the lock is taken until after it is released.
  const signals = sessionSignals({
    runId: spec.runId,
    resumable: !o.around,
    source: o.nested ? 'none' : (o.signal ?? 'process'),
    stopSource: o.stopSignal,
    warn,
    beforeExit: () => {
      for (const a of lastFirst()) a.finishNow?.();
      void lock?.release(); // the lock files go synchronously; the coordination session with the process
    },
  });
  let lost: Error | undefined;
  const lostTimer = setInterval(() => {
    if (!lost) return;
    warn(`coordination lock session lost: ${lost.message}`);
    lost = undefined;
  }, 1000);
  lostTimer.unref();
  let code: number;
  try {
    if (!o.nested) lock = await takeLock(spec, o.stateDir, secret, (err) => (lost = err));
    const stateWriteFailed = (error: StateWriteFailed) => {
      journalFailure ??= error;
      signals.stop.abort(error); // the current step ends; nothing after it runs unrecorded
    };
    const services = { runId: spec.runId, stateDir: o.stateDir, emitter, secret, stateWriteFailed };
    for (const attach of o.attach ?? []) attached.push(await attach(services));
    code = await runJournaled(spec, o, { ...services, lock, signals, attached });
  } finally {
    clearInterval(lostTimer);
    for (const a of lastFirst()) await a.finish?.();
    await lock?.release();
    signals.release();
  }
  if (journalFailure) {
    io.err(
      `failed: ${journalFailure.message}; the run stopped before its next step (resumable once the disk has room: drillbook resume ${spec.runId})`,
    );
    return ExitCode.failed;
  }
  const signalled = signals.signalled();
  return signalled ? signalExitCode(signalled) : code;
}

/** The environment's lock plus the runbook's `lock:` (which adds a lock, never replaces it). */
function takeLock(
  spec: RunSpec,
  stateDir: string,
  secret: (ref: string) => Promise<string>,
  onLost: (err: Error) => void,
): Promise<HeldLock> {
  return acquireRunLock({
    stateDir,
    keys: [spec.env.name, ...(spec.runbook.lock ? [spec.runbook.lock] : [])],
    holder: {
      operator: spec.operator,
      runId: spec.runId,
      since: new Date().toISOString(),
      pid: process.pid,
      host: hostname(),
    },
    coordination: spec.env.coordination,
    secret,
    onLost,
  });
}

/** The run itself, once lock, journal and attachments are in place: orphans of a crash, then steps. */
async function runJournaled(
  spec: RunSpec,
  o: SessionOptions,
  c: SessionServices & {
    lock: HeldLock | undefined;
    signals: ReturnType<typeof sessionSignals>;
    attached: Attachment[];
  },
): Promise<number> {
  const { emitter, secret, signals } = c;
  const warn = (message: string) => emitter.emit({ type: 'log', level: 'warn', message });
  if (c.lock?.tookOver) {
    const h = c.lock.tookOver;
    warn(`took over lock "${h.key}" from ${h.operator} (run ${h.runId}, pid ${h.pid} is no longer running)`);
  }
  // Before anything acts: what the crashed run's step left running ends first (never two copies).
  if (o.resume?.children.length && o.orphans) await settleOrphans(o.resume.children, { ...o.orphans, warn });

  const approvals = { all: o.yes, steps: new Set(o.approve ?? []), ask: o.ask };
  const execute = (signal: AbortSignal = signals.interrupt.signal, inputs: InputValues = {}) =>
    executeRun(
      { ...spec, inputs: { ...spec.inputs, ...inputs } },
      {
        emitter,
        stateDir: o.stateDir,
        signal,
        stop: signals.stop.signal,
        approvals,
        resolveSecret: resolveSecretRef,
        actions: registry,
        resume: o.resume,
      },
    );
  const code = o.around
    ? await o.around({ emitter, signal: signals.interrupt.signal, secret, execute })
    : exitCodeOf(await execute());
  for (const a of c.attached) await a.settled?.();
  return code;
}
