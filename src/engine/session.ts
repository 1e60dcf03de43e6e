// One run (or resume) from the command line: lock, journal, views, Ctrl-C, then the runner. This is
// where the process meets the engine; the runner itself neither prints nor touches signals.
import { hostname, userInfo } from 'node:os';
import { createInterface } from 'node:readline';
import { actions as registry } from '../actions/registry.js';
import { resolveSecretRef } from '../connectors/secrets.js';
import { parseDuration } from '../duration.js';
import { ExitCode, StepFailure, exitCodeFor } from '../errors.js';
import { startEvidence, type Evidence, type EvidenceOptions } from '../report/evidence.js';
import type { Output } from '../system/output.js';
import type { ApprovalPolicy, AskApproval } from './approvals.js';
import { RunEmitter, journalStructure } from './events.js';
import { openJournal, type JournalHeader } from './journal.js';
import { acquireRunLock } from './lock.js';
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
    : result.status === 'interrupted'
      ? ExitCode.failed
      : exitCodeFor(result.error);

/** Runs the spec under the environment's lock with journal and views; returns the exit code. */
export async function runSession(spec: RunSpec, o: SessionOptions, io: Output): Promise<number> {
  const emitter = new RunEmitter();
  await registerRunSecrets(emitter.redactor, spec.env, spec.secrets);
  const secret = (ref: string) => emitter.redactor.resolve(ref);
  const holder = {
    key: spec.runbook.lock ?? spec.env.name,
    operator: spec.operator,
    runId: spec.runId,
    since: new Date().toISOString(),
    pid: process.pid,
    host: hostname(),
  };
  let lost: Error | undefined;
  const lock = await acquireRunLock({
    stateDir: o.stateDir,
    holder,
    coordination: spec.env.coordination,
    secret,
    onLost: (err) => (lost = err),
  });
  let journal: ReturnType<typeof openJournal>;
  try {
    journal = openJournal(
      journalPath(o.stateDir, spec.runId),
      o.header && emitter.redactor.redact(o.header, journalStructure),
    );
  } catch (err) {
    await lock.release();
    throw err;
  }
  emitter.subscribe(journal.subscriber);

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

  if (lock.tookOver) {
    const h = lock.tookOver;
    emitter.emit({
      type: 'log',
      level: 'warn',
      message: `took over lock "${holder.key}" from ${h.operator} (run ${h.runId}, pid ${h.pid} is no longer running)`,
    });
  }
  const lostTimer = setInterval(() => {
    if (!lost) return;
    emitter.emit({ type: 'log', level: 'warn', message: `coordination lock session lost: ${lost.message}` });
    lost = undefined;
  }, 1000);
  lostTimer.unref();

  // Ctrl-C once: stop the current step, roll back, exit 1. Twice: exit now; the journal is resumable.
  const interrupt = new AbortController();
  let presses = 0;
  const onSignal = () => {
    if (++presses > 1) {
      journal.close();
      void lock.release();
      process.exit(130);
    }
    emitter.emit({
      type: 'log',
      level: 'warn',
      message:
        'interrupt: stopping the current step, then rollback; interrupt again to exit at once (the run stays resumable)',
    });
    interrupt.abort(new StepFailure('interrupted by the operator'));
  };
  // A caller that handles signals itself (the scheduler daemon) passes its own signal instead.
  if (o.signal) o.signal.addEventListener('abort', onSignal, { once: true });
  else {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }

  const approvals: ApprovalPolicy = {
    all: o.yes,
    steps: new Set(o.approve ?? []),
    ask: process.stdin.isTTY ? ttyAsk(spec.operator, tty ? undefined : process.stderr) : undefined,
  };
  let evidence: Evidence | undefined;
  try {
    evidence = await startEvidence(
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
    const execute = (signal: AbortSignal = interrupt.signal, inputs: InputValues = {}) =>
      executeRun(
        { ...spec, inputs: { ...spec.inputs, ...inputs } },
        {
          emitter,
          signal,
          approvals,
          resolveSecret: resolveSecretRef,
          actions: registry,
          resume: o.resume,
        },
      );
    if (o.around) {
      const code = await o.around({ emitter, signal: interrupt.signal, secret, execute });
      await viewDone;
      return code;
    }
    const result = await execute();
    await viewDone;
    return exitCodeOf(result);
  } finally {
    o.signal?.removeEventListener('abort', onSignal);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    clearInterval(lostTimer);
    await evidence?.finish();
    journal.close();
    await lock.release();
  }
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
