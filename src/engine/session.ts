// One run (or resume) from the command line: lock, journal, views, Ctrl-C, then the runner. This is
// where the process meets the engine; the runner itself neither prints nor touches signals.
import { constants as osConstants, hostname, userInfo } from 'node:os';
import { createInterface } from 'node:readline';
import { actions as registry } from '../actions/registry.js';
import { resolveSecretRef } from '../connectors/secrets.js';
import { parseDuration } from '../duration.js';
import { ExitCode, StepFailure, exitCodeFor } from '../errors.js';
import { startEvidence, type Evidence, type EvidenceOptions } from '../report/evidence.js';
import type { Output } from '../system/output.js';
import type { ApprovalPolicy, AskApproval } from './approvals.js';
import { RunEmitter, journalStructure } from './events.js';
import { settleOrphans, type OrphanPolicy } from './children.js';
import { openJournal, type JournalHeader, type JournalWriter, type StateWriteFailed } from './journal.js';
import { acquireRunLock, type HeldLock } from './lock.js';
import { registerRunSecrets } from './run-secrets.js';
import { journalPath } from '../system/run-paths.js';
import type { InputValues } from '../runbook/inputs.js';
import { executeRun, summarize, type ResumeState, type RunResult, type RunSpec } from './runner.js';
import { plainView, jsonView } from './views/plain.js';

export const operatorName = () => `${userInfo().username}@${hostname()}`;

/** Reports and the Slack thread (`EvidenceOptions`) come with every session. */
export interface SessionOptions extends EvidenceOptions {
  stateDir: string;
  json?: boolean;
  yes?: boolean;
  approve?: string[];
  /** The journal header for a new run; absent when resuming (the journal is appended to). */
  header?: JournalHeader;
  resume?: ResumeState;
  /** On resume: what to do with a command of the crashed run that still runs. */
  orphans?: { policy: OrphanPolicy; waitMs: number };
  /**
   * Aborting it interrupts the run as Ctrl-C does (the current step stops, rollback runs); when
   * given, the session leaves the process's signals to its caller.
   */
  signal?: AbortSignal;
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

/** The conventional exit code of a process ended by `signal`: 130 for SIGINT, 143 for SIGTERM. */
const signalExitCode = (signal: NodeJS.Signals) => 128 + osConstants.signals[signal];

/**
 * Runs the spec under the environment's lock (and its runbook's `lock:`) with journal and views;
 * returns the exit code.
 */
export async function runSession(spec: RunSpec, o: SessionOptions, io: Output): Promise<number> {
  const emitter = new RunEmitter(spec.runId);
  await registerRunSecrets(emitter.redactor, spec.env, spec.secrets);
  const secret = (ref: string) => emitter.redactor.resolve(ref);
  const warn = (message: string) => emitter.emit({ type: 'log', level: 'warn', message });
  let lock: HeldLock | undefined;
  let journal: JournalWriter | undefined;
  let evidence: Evidence | undefined;

  // A signal to a plain run stops it resumable (no rollback: `resume` continues it under the crash
  // rules); a drill instead aborts its runbook and reverts its fault. A second signal exits at
  // once. Either way the exit code is the signal's, the lock is released and the report written.
  // The handlers stay from before the lock is taken until after it is released.
  const stop = new AbortController();
  const interrupt = new AbortController();
  const resumable = !o.around;
  let signalled: NodeJS.Signals | undefined;
  let journalFailure: StateWriteFailed | undefined;
  const exitNow = (signal: NodeJS.Signals) => {
    journal?.close();
    evidence?.writeReport();
    void lock?.release(); // the lock files go synchronously; the coordination session with the process
    process.exit(signalExitCode(signal));
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return exitNow(signal);
    signalled = signal;
    if (resumable) {
      warn(
        `${signal}: stopping the current step, no rollback; the run stays resumable (drillbook resume ${spec.runId}); signal again to exit at once`,
      );
      stop.abort(new StepFailure(`stopped by ${signal}`));
    } else warn(`${signal}: stopping the current step, then rollback; signal again to exit at once`);
    interrupt.abort(new StepFailure(`interrupted by ${signal}`));
  };
  const onDaemonStop = () => {
    warn('interrupt: stopping the current step, then rollback');
    interrupt.abort(new StepFailure('interrupted by the operator'));
  };
  // A caller that handles signals itself (the scheduler daemon) passes its own signal instead.
  if (o.signal) o.signal.addEventListener('abort', onDaemonStop, { once: true });
  else {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  let lost: Error | undefined;
  const lostTimer = setInterval(() => {
    if (!lost) return;
    warn(`coordination lock session lost: ${lost.message}`);
    lost = undefined;
  }, 1000);
  lostTimer.unref();
  let code: number;
  try {
    lock = await acquireRunLock({
      stateDir: o.stateDir,
      // `lock:` adds a lock: the environment stays locked whatever the runbook says.
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
      onLost: (err) => (lost = err),
    });
    const path = journalPath(o.stateDir, spec.runId);
    journal = openJournal(path, o.header && emitter.redactor.redact(o.header, journalStructure), (error) => {
      journalFailure ??= error;
      stop.abort(error); // the current step ends; nothing after it runs unrecorded
    });
    emitter.subscribe(journal.subscriber);
    code = await runJournaled(spec, o, io, {
      emitter,
      secret,
      lock,
      stop: stop.signal,
      interrupt,
      setEvidence: (e) => (evidence = e),
    });
  } finally {
    o.signal?.removeEventListener('abort', onDaemonStop);
    clearInterval(lostTimer);
    await evidence?.finish();
    journal?.close();
    await lock?.release();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    // Signalled, the process is on its way out (a step's kill timer may keep it a moment): another
    // signal meanwhile still ends it with the signal's code, not by the default action.
    if (signalled) for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, exitNow);
  }
  if (journalFailure) {
    io.err(
      `failed: ${journalFailure.message}; the run stopped before its next step (resumable once the disk has room: drillbook resume ${spec.runId})`,
    );
    return ExitCode.failed;
  }
  return signalled ? signalExitCode(signalled) : code;
}

/** The run itself, once lock and journal are in place: views, orphans of a crash, evidence, steps. */
async function runJournaled(
  spec: RunSpec,
  o: SessionOptions,
  io: Output,
  c: {
    emitter: RunEmitter;
    secret(ref: string): Promise<string>;
    lock: HeldLock;
    stop: AbortSignal;
    interrupt: AbortController;
    setEvidence(evidence: Evidence): void;
  },
): Promise<number> {
  const { emitter, secret } = c;
  const tty = !o.json && process.stdout.isTTY === true;
  let viewDone: Promise<void> = Promise.resolve();
  if (o.json) emitter.subscribe(jsonView(io.out));
  else if (tty) {
    const { liveView } = await import('./views/live.js');
    const view = liveView(
      summarize(spec.runbook.steps, 'main'),
      summarize(spec.runbook.rollback ?? [], 'rollback'),
    );
    emitter.subscribe(view.subscriber);
    viewDone = view.done;
  } else emitter.subscribe(plainView(io.out));

  const warn = (message: string) => emitter.emit({ type: 'log', level: 'warn', message });
  if (c.lock.tookOver) {
    const h = c.lock.tookOver;
    warn(`took over lock "${h.key}" from ${h.operator} (run ${h.runId}, pid ${h.pid} is no longer running)`);
  }
  // Before anything acts: what the crashed run's step left running ends first (never two copies).
  if (o.resume?.children.length && o.orphans) await settleOrphans(o.resume.children, { ...o.orphans, warn });

  const approvals: ApprovalPolicy = {
    all: o.yes,
    steps: new Set(o.approve ?? []),
    ask: process.stdin.isTTY ? ttyAsk(spec.operator, tty ? undefined : process.stderr) : undefined,
  };
  const evidence = await startEvidence(
    {
      runId: spec.runId,
      runbook: spec.runbook.metadata.name,
      env: spec.env,
      rtoMs: parseDuration(spec.runbook.objectives?.rto ?? ''),
      stateDir: o.stateDir,
      startedAt: o.resume?.startedAt,
      emitter,
      secret,
      json: o.json,
      io,
    },
    o,
  );
  c.setEvidence(evidence);
  const execute = (signal: AbortSignal = c.interrupt.signal, inputs: InputValues = {}) =>
    executeRun(
      { ...spec, inputs: { ...spec.inputs, ...inputs } },
      {
        emitter,
        signal,
        stop: c.stop,
        approvals,
        resolveSecret: resolveSecretRef,
        actions: registry,
        resume: o.resume,
      },
    );
  if (o.around) {
    const code = await o.around({ emitter, signal: c.interrupt.signal, secret, execute });
    await viewDone;
    return code;
  }
  const result = await execute();
  await viewDone;
  return exitCodeOf(result);
}

/** Reads y/N from the terminal; `prompt` is where the question is written (the live view shows it itself). */
function ttyAsk(operator: string, prompt: NodeJS.WritableStream | undefined): AskApproval {
  return (request, signal) =>
    new Promise((resolve, reject) => {
      const rl = createInterface({ input: process.stdin, terminal: false });
      const finish = () => {
        signal.removeEventListener('abort', onAbort);
        rl.close();
      };
      const onAbort = () => {
        finish();
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      prompt?.write(`? ${request.stepId}: ${request.message} [y/N] `);
      rl.once('line', (line) => {
        finish();
        resolve({ approved: /^y(es)?$/i.test(line.trim()), by: operator });
      });
    });
}
