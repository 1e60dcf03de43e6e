// The scheduler: one loop per drill sleeps until its next occurrence starts, decides (blackout,
// degraded environment, previous occurrence still running, claimed by another daemon) and runs the
// drill through the same code path as `drillbook drill`. Every decision is one log line.
import type { Output } from '../cli/output.js';
import { markDegraded, readDegraded } from '../drill/degraded.js';
import { errorMessage, UserError } from '../errors.js';
import { systemClock, sleepUntil, type Clock } from './clock.js';
import type { Claim, Claims, Orphan, Outcome } from './claims.js';
import type { Coordination } from './coordination.js';
import type { DaemonLog } from './log.js';
import type { DrillSchedule, Occurrence } from './occurrences.js';
import type { DrillVerdict } from '../schema/drill-outcome.js';
import type { Slack } from '../schema/inventory.js';
import { readState, updateState } from './state.js';
import { formatIn } from './zone.js';

export interface DrillRunOptions {
  drillFile: string;
  inventoryFile?: string;
  stateDir?: string;
  json?: boolean;
  /** Aborting makes the drill revert its fault and restore, then return `aborted`. */
  signal?: AbortSignal;
}

/** `runDrill` of src/drill/run-drill.ts, or a fake in tests. */
export type DrillRunner = (
  options: DrillRunOptions,
  io: Output,
) => Promise<{ runId: string; verdict: DrillVerdict; exitCode: number; reportDir?: string }>;

export interface ScheduledDrill {
  name: string;
  file: string;
  environment: string;
  coordination?: Coordination;
  /** The restore runbook, named in the report of an orphaned occurrence. */
  restoreFile?: string;
  /** The environment's Slack channel: where an orphaned occurrence is announced. */
  slack?: Slack;
  schedule: DrillSchedule;
}

export interface DaemonOptions {
  drills: ScheduledDrill[];
  runDrill: DrillRunner;
  /** The claims of a drill: one shared instance per coordination database (or the local files). */
  claimsFor(drill: ScheduledDrill): Claims;
  /** Every distinct Claims in use: watched for orphans, closed at exit. */
  allClaims(): Claims[];
  stateDir: string;
  inventoryFile?: string;
  log: DaemonLog;
  clock?: Clock;
  /** How often a running drill's claim is refreshed, and orphans looked for (real time). */
  heartbeatMs: number;
  /** Tells people on Slack: drills post their own threads, the daemon only its orphan reports. */
  postSlack?(slack: Slack, text: string): Promise<void>;
}

export type StopMode = 'finish' | 'abort';

export interface Daemon {
  /** Starts no more occurrences; `finish` lets running drills end, `abort` aborts them (they
   * revert their fault and restore). Calling again with `abort` escalates. */
  stop(mode: StopMode): void;
  /** Resolves when every loop ended and every drill in progress finished. */
  done: Promise<void>;
}

/** Catch-up counts missed occurrences up to this many. */
const MISSED_COUNT_LIMIT = 100;

export function startDaemon(o: DaemonOptions): Daemon {
  const clock = o.clock ?? systemClock;
  const { log } = o;
  const stopping = new AbortController();
  /** Slack posts in flight, awaited before exit. */
  const pending = new Set<Promise<void>>();
  const running = new Map<string, { occurrence: Occurrence; abort: AbortController; done: Promise<void> }>();
  const handled = (d: ScheduledDrill, occurrence: Occurrence) =>
    updateState(o.stateDir, d.name, (s) => ({
      ...(s ?? { watchedSince: clock.now().toISOString() }),
      lastOccurrence: occurrence.at.toISOString(),
    }));
  const tz = (d: ScheduledDrill) => d.schedule.timezone;

  /** Start-up: the occurrences missed since the last one handled; returns where to go on from. */
  async function catchUp(d: ScheduledDrill): Promise<Date> {
    const now = clock.now();
    const state = readState(o.stateDir)[d.name];
    const latest = d.schedule.lastStartedBefore(now);
    if (!state) {
      // Never watched before: nothing was missed, and from now on misses can be counted.
      updateState(o.stateDir, d.name, () => ({ watchedSince: now.toISOString() }));
      return latest?.at ?? now;
    }
    const since = new Date(state.lastOccurrence ?? state.watchedSince);
    if (!latest || latest.at <= since) return latest?.at ?? now;
    let missed = 0;
    for (let x = d.schedule.next(since); x && x.at <= latest.at && missed < MISSED_COUNT_LIMIT; missed++)
      x = d.schedule.next(x.at);
    const count = `${missed}${missed === MISSED_COUNT_LIMIT ? '+' : ''} occurrence(s) missed since ${since.toISOString()}`;
    if (d.schedule.catchUp === 'once') {
      log({
        event: 'missed',
        drill: d.name,
        occurrence: latest.at,
        timezone: tz(d),
        message: `${count}; catchUp once: running the latest now`,
      });
      await handle(d, latest);
    } else {
      log({
        event: 'missed',
        drill: d.name,
        occurrence: latest.at,
        timezone: tz(d),
        message: `${count}; catchUp skip: none is run`,
      });
      handled(d, latest);
    }
    return latest.at;
  }

  async function watch(d: ScheduledDrill) {
    let cursor = await catchUp(d);
    while (!stopping.signal.aborted) {
      const next = d.schedule.next(cursor);
      if (!next) {
        log({ event: 'skip', drill: d.name, message: 'the schedule has no further occurrence' });
        return;
      }
      log({
        event: 'next',
        drill: d.name,
        occurrence: next.at,
        timezone: tz(d),
        message: `starts ${formatIn(next.start, tz(d))}`,
        start: next.start.toISOString(),
      });
      if (!(await sleepUntil(clock, next.start, stopping.signal))) return;
      cursor = next.at;
      await handle(d, next);
    }
  }

  /** Decides about one occurrence now; a drill that is started runs on in the background. */
  async function handle(d: ScheduledDrill, occurrence: Occurrence) {
    const skip = (message: string, details: Record<string, unknown> = {}) => {
      log({ event: 'skip', drill: d.name, occurrence: occurrence.at, timezone: tz(d), message, ...details });
      handled(d, occurrence);
    };
    const previous = running.get(d.name);
    if (previous)
      return skip(`the previous occurrence (${previous.occurrence.at.toISOString()}) is still running`, {
        reason: 'running',
      });
    const blackout = d.schedule.blackout(clock.now());
    if (blackout) return skip(`in ${blackout}`, { reason: 'blackout' });
    const degraded = readDegraded(o.stateDir, d.environment);
    if (degraded) {
      return skip(
        `environment ${d.environment} is degraded since ${degraded.since} (${degraded.reason}); restore it, then a manual "drillbook drill ${d.file}" checks its steady state and clears the mark`,
        { reason: 'degraded' },
      );
    }
    let claimed: Awaited<ReturnType<Claims['claim']>>;
    try {
      claimed = await o.claimsFor(d).claim(occurrence, d.environment);
    } catch (err) {
      // Without a claim nobody can tell whether another daemon runs it: never run unclaimed.
      log({
        event: 'error',
        drill: d.name,
        occurrence: occurrence.at,
        timezone: tz(d),
        message: `cannot claim the occurrence, not running it: ${errorMessage(err)}`,
      });
      return;
    }
    if ('claimedBy' in claimed)
      return skip(`claimed by daemon ${claimed.claimedBy}`, { reason: 'claimed', by: claimed.claimedBy });
    handled(d, occurrence);
    if (stopping.signal.aborted) {
      await claimed.claim
        .finish({ verdict: 'aborted', detail: 'the daemon stopped before the drill started' })
        .catch(() => undefined);
      return;
    }
    const abort = new AbortController();
    running.set(d.name, { occurrence, abort, done: execute(d, occurrence, claimed.claim, abort.signal) });
  }

  async function execute(d: ScheduledDrill, occurrence: Occurrence, claim: Claim, signal: AbortSignal) {
    const at = { drill: d.name, occurrence: occurrence.at, timezone: tz(d) };
    log({ ...at, event: 'run', message: `running ${d.file} on ${d.environment}` });
    const heartbeat = setInterval(() => {
      claim
        .heartbeat()
        .catch((err) => log({ ...at, event: 'error', message: `heartbeat failed: ${errorMessage(err)}` }));
    }, o.heartbeatMs);
    let outcome: Outcome;
    try {
      const r = await o.runDrill(
        { drillFile: d.file, inventoryFile: o.inventoryFile, stateDir: o.stateDir, signal },
        drillOutput(d),
      );
      outcome = { verdict: r.verdict, runId: r.runId };
      log({
        ...at,
        event: 'done',
        message: `${r.verdict} (run ${r.runId}${r.reportDir ? `, report ${r.reportDir}` : ''})`,
        verdict: r.verdict,
        runId: r.runId,
        reportDir: r.reportDir,
      });
    } catch (err) {
      // Bad input (an engine lock held by another run, a missing file) refuses the drill; the rest is unexpected.
      outcome = { verdict: err instanceof UserError ? 'refused' : 'error', detail: errorMessage(err) };
      log({
        ...at,
        event: err instanceof UserError ? 'skip' : 'error',
        message: `${outcome.verdict}: ${outcome.detail}`,
        reason: outcome.verdict,
      });
    } finally {
      clearInterval(heartbeat);
    }
    await claim
      .finish(outcome)
      .catch((err) =>
        log({ ...at, event: 'error', message: `cannot record the outcome: ${errorMessage(err)}` }),
      );
    updateState(o.stateDir, d.name, (s) => ({
      ...s!,
      lastRun: {
        occurrence: occurrence.at.toISOString(),
        runId: outcome.runId,
        verdict: outcome.verdict,
        finishedAt: clock.now().toISOString(),
      },
    }));
    running.delete(d.name);
  }

  /** The drill's own output, as log lines of its drill. */
  const drillOutput = (d: ScheduledDrill): Output => {
    const emit = (stream: 'out' | 'err') => (text: string) => {
      for (const line of text.replace(/\n$/, '').split('\n'))
        log({ event: 'output', drill: d.name, message: line, stream });
    };
    return { out: emit('out'), err: emit('err') };
  };

  function reportOrphan(orphan: Orphan) {
    const d = o.drills.find((x) => x.name === orphan.drill);
    const restore = d?.restoreFile
      ? `drillbook run ${d.restoreFile} --env ${orphan.environment}`
      : `restore environment ${orphan.environment}`;
    const reason = `daemon ${orphan.daemon} stopped while running drill ${orphan.drill} (occurrence ${orphan.occurrence.toISOString()}, last heartbeat ${orphan.lastHeartbeat.toISOString()})`;
    // Not rerun: the environment may still carry the fault. The degraded mark holds this daemon's
    // drills on it until a manual drill finds it healthy.
    markDegraded(o.stateDir, {
      environment: orphan.environment,
      since: clock.now().toISOString(),
      runId: `orphan:${orphan.drill}@${orphan.occurrence.toISOString()}`,
      reason,
      manualSteps: [restore, `drillbook drill ${d?.file ?? orphan.drill} (checks the steady state first)`],
    });
    const message = `${reason}; environment ${orphan.environment} may still carry the fault and needs a restore: ${restore}; not rerun`;
    const at = { drill: orphan.drill, occurrence: orphan.occurrence, timezone: d ? tz(d) : undefined };
    log({ ...at, event: 'orphan', message, environment: orphan.environment, daemon: orphan.daemon });
    if (d?.slack && o.postSlack) {
      // A person has to act: the one decision worth a Slack message of its own.
      const posted = o.postSlack(d.slack, `:warning: drillbook daemon: ${message}`);
      pending.add(posted);
      posted
        .catch((err) => log({ ...at, event: 'error', message: `cannot post to Slack: ${errorMessage(err)}` }))
        .finally(() => pending.delete(posted));
    }
  }

  async function watchOrphans() {
    for (const claims of o.allClaims()) {
      try {
        for (const orphan of await claims.orphans()) reportOrphan(orphan);
      } catch (err) {
        log({ event: 'error', message: `cannot look for orphaned drills: ${errorMessage(err)}` });
      }
    }
  }

  log({
    event: 'start',
    message: `watching ${o.drills.length} scheduled drill(s): ${o.drills.map((d) => d.name).join(', ')}`,
  });
  let orphanCheck: Promise<void> = watchOrphans();
  const orphanTimer = setInterval(() => (orphanCheck = orphanCheck.then(watchOrphans)), o.heartbeatMs);
  const loops = Promise.all(o.drills.map((d) => watch(d)));

  const done = (async () => {
    await loops;
    // The drills in progress end on their own (finish) or through their signal (abort).
    while (running.size) await Promise.all([...running.values()].map((r) => r.done));
    clearInterval(orphanTimer);
    await orphanCheck;
    await Promise.allSettled(pending);
    await Promise.all(o.allClaims().map((c) => c.close()));
    log({ event: 'exit', message: 'stopped' });
  })();

  return {
    stop(mode) {
      if (!stopping.signal.aborted) {
        const names = [...running.keys()];
        const what = names.length
          ? mode === 'abort'
            ? `aborting ${names.join(', ')} (they revert their fault and restore)`
            : `letting ${names.join(', ')} finish`
          : 'no drill in progress';
        log({ event: 'stop', message: `stopping: ${what}` });
        stopping.abort();
      } else if (mode === 'abort' && running.size) {
        log({ event: 'stop', message: `aborting ${[...running.keys()].join(', ')}` });
      }
      if (mode === 'abort')
        for (const r of running.values()) r.abort.abort(new Error('the daemon is stopping'));
    },
    done,
  };
}
