// A drill's `trigger`: what starts the runbook once the fault struck. immediate: the drill itself
// (execute). alert: nobody in this process; the monitoring must notice, Alertmanager post to the
// environment's `drillbook serve`, and serve start the run, which the drill waits for (bounded)
// and whose journal it reads into its own timeline. manual: a person answers an approval
// (`drillbook approve RUN_ID start`), then the drill executes the runbook.
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseDuration } from '../../duration.js';
import { boxAsk } from '../../engine/approval-box.js';
import { requestApproval } from '../../engine/approvals.js';
import { acquireRunLock, RunLocked, type HeldLock } from '../../engine/lock.js';
import { operatorName } from '../../engine/new-run.js';
import type { RunEvent } from '../../engine/events.js';
import { readJournal } from '../../engine/journal.js';
import { errorMessage, StepFailure } from '../../errors.js';
import { postApprovalButtons } from '../../report/slack-approval.js';
import type { InputValues } from '../../runbook/inputs.js';
import { journalPath } from '../../system/run-paths.js';
import type { DrillState, RunResult } from './state.js';

/** The approval a manual drill waits on: `drillbook approve RUN_ID start`. */
export const MANUAL_START_STEP = 'start';
const DEFAULT_TIMEOUT = '1m';
const POLL_MS = 100;
/** How long serve's run may take to release the environment's lock after its journal ended. */
const LOCK_WAIT_MS = 30_000;

/** What serve appends to <state>/serve/alerts.jsonl for each alert (the fields read here). */
interface AlertLine {
  at: string;
  alertname?: string;
  status: string;
  startsAt?: string;
  outcome: string;
  environment?: string;
  runId?: string;
  detail?: string;
}

/** The events of the alert's run that the drill's measurement and timeline read. */
const IMPORTED = new Set<RunEvent['type']>([
  'step-started',
  'step-finished',
  'step-skipped',
  'approval-requested',
  'approval-granted',
  'approval-denied',
]);

export const triggerTimeoutMs = (s: DrillState) =>
  parseDuration(s.loaded.drill.triggerTimeout ?? DEFAULT_TIMEOUT) ?? 60_000;

/** Starts the runbook as the drill's trigger says and returns how the run ended. */
export async function runTriggered(
  s: DrillState,
  signal: AbortSignal,
  lateInputs: InputValues | undefined,
): Promise<RunResult> {
  const trigger = s.loaded.drill.trigger ?? 'immediate';
  if (trigger === 'alert') return awaitAlertRun(s, signal);
  if (trigger === 'manual') await awaitPerson(s, signal);
  return s.w.execute(signal, lateInputs);
}

/**
 * The drill's `start` approval. It lives in the state directory of the environment's serve when
 * the inventory names one, so a Slack click (which serve receives) answers it as well as
 * `drillbook approve`; the question goes to the drill's Slack thread with the buttons.
 */
async function awaitPerson(s: DrillState, signal: AbortSignal): Promise<void> {
  const { env } = s.loaded;
  const stateDir = env.serve?.stateDir ?? s.stateDir;
  const ask = boxAsk({
    stateDir,
    runId: s.runId,
    environment: env.name,
    requester: `drill ${s.loaded.drill.metadata.name}`,
    fourEyes: false,
    announce: async (p) => {
      if (!env.slack) return;
      await postApprovalButtons(env.slack, p, s.stateDir, s.w.emitter.redactor).catch((err: unknown) =>
        s.w.emitter.emit({
          type: 'log',
          level: 'warn',
          message: `approval buttons not posted: ${errorMessage(err)}`,
        }),
      );
    },
  });
  const timeout = s.loaded.drill.triggerTimeout ?? DEFAULT_TIMEOUT;
  const bounded = AbortSignal.any([signal, AbortSignal.timeout(triggerTimeoutMs(s))]);
  const where = stateDir === s.stateDir ? '' : ` --state-dir ${stateDir}`;
  const message = `The fault struck (${s.loaded.drill.fault?.kind ?? 'none'} on ${s.node}): start ${s.runbook.metadata.name}? (drillbook approve ${s.runId} ${MANUAL_START_STEP}${where})`;
  const { by } = await requestApproval({ ask }, s.w.emitter, MANUAL_START_STEP, { message }, bounded).catch(
    (err: unknown) => {
      if (bounded.aborted && !signal.aborted)
        throw new StepFailure(`nobody started the runbook within ${timeout}`);
      throw err;
    },
  );
  s.w.emitter.emit({ type: 'drill-triggered', trigger: 'manual', by });
}

/** Waits for serve to start the alert's run, then for that run to end; its events join the drill's. */
async function awaitAlertRun(s: DrillState, signal: AbortSignal): Promise<RunResult> {
  // The drill-trigger rule refused a drill without it before anything started.
  const serve = s.loaded.env.serve!;
  const faultWall = Date.now() - (performance.now() - s.faultAt);
  const deadline = performance.now() + triggerTimeoutMs(s);
  const alerts = join(serve.stateDir, 'serve', 'alerts.jsonl');
  let line: AlertLine | undefined;
  while (!line) {
    const fresh = readAlertLines(alerts).filter(
      (a) => a.environment === s.loaded.env.name && a.status === 'firing' && Date.parse(a.at) >= faultWall,
    );
    line = fresh.find((a) => a.outcome === 'started' && a.runId);
    const refused = fresh.find((a) => a.outcome === 'busy' || a.outcome === 'refused');
    if (!line && refused)
      throw new StepFailure(`serve did not start the run: ${refused.outcome} (${refused.detail ?? ''})`);
    if (!line && performance.now() > deadline)
      throw new StepFailure(
        `no alert started a run on ${s.loaded.env.name} within ${s.loaded.drill.triggerTimeout ?? DEFAULT_TIMEOUT} of the fault (${alerts})`,
      );
    if (!line) await sleep(POLL_MS, undefined, { signal });
  }
  const runId = line.runId!;
  const journal = journalPath(serve.stateDir, runId);
  let end: Extract<RunEvent, { type: 'run-finished' | 'run-stopped' }> | undefined;
  let events: RunEvent[] = [];
  while (!end) {
    await sleep(POLL_MS, undefined, { signal });
    if (!existsSync(journal)) continue;
    events = readJournal(journal).events;
    end = events.find((e) => e.type === 'run-finished' || e.type === 'run-stopped') as typeof end;
  }
  // The alert's run has its own clock: its events are placed on the drill's through wall time.
  const origin = Date.now() - s.w.emitter.now();
  for (const e of events)
    if (IMPORTED.has(e.type)) s.events.push({ ...e, t: Date.parse(e.ts) - origin } as RunEvent);
  s.serveLock = await holdServeLock(s, serve.stateDir, signal).catch((err: unknown) => {
    const message = `the restore runs without the lock of ${serve.stateDir}: ${errorMessage(err)}`;
    s.w.emitter.emit({ type: 'log', level: 'warn', message });
    return undefined;
  });
  s.w.emitter.emit({
    type: 'drill-triggered',
    trigger: 'alert',
    alertRun: runId,
    alertname: line.alertname,
    firingAt: line.startsAt,
    receivedAt: line.at,
  });
  if (end.type === 'run-stopped')
    return { status: 'stopped', durationMs: end.durationMs, error: new StepFailure(end.reason) };
  return {
    status: end.status === 'succeeded' ? 'succeeded' : 'failed',
    durationMs: end.durationMs,
    failedStep: end.failedStep,
    error: end.error ? new StepFailure(`run ${runId}: ${end.error}`) : undefined,
  };
}

/**
 * Until the drill ends, the environment's lock in serve's state directory is the drill's: the
 * restore's switchover may leave the cluster without a primary long enough to fire the alert
 * again, and serve must then record it as busy, not start a failover in the middle of the failback.
 * serve's run frees the lock just after its journal ends, so it is retried for a moment.
 */
async function holdServeLock(s: DrillState, stateDir: string, signal: AbortSignal): Promise<HeldLock> {
  const deadline = performance.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      return await acquireRunLock({
        stateDir,
        keys: [s.loaded.env.name],
        holder: {
          operator: operatorName(),
          runId: s.runId,
          since: new Date().toISOString(),
          pid: process.pid,
          host: hostname(),
        },
        secret: s.w.secret,
      });
    } catch (err) {
      if (!(err instanceof RunLocked) || performance.now() > deadline) throw err;
      await sleep(POLL_MS, undefined, { signal });
    }
  }
}

function readAlertLines(file: string): AlertLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as AlertLine];
      } catch {
        return []; // a line serve is still writing
      }
    });
}
