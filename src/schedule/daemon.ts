// The scheduler: one loop per drill sleeps until its next occurrence starts, decides (blackout,
// degraded environment, previous occurrence still running, claimed by another daemon) and runs the
// drill through the same code path as `drillbook drill`. Every decision is one log line.
import type { Output } from '../system/output.js';
import { readDegraded } from '../drill/degraded.js';
import { errorMessage } from '../errors.js';
import { systemClock, sleepUntil, type Clock } from './clock.js';
import type { Claim, Claims, Outcome } from './claims.js';
import type { Coordination } from './coordination.js';
import type { DaemonLog } from './log.js';
import { reportOrphan } from './orphan-report.js';
import { runOccurrence } from './run-occurrence.js';
import type { DrillSchedule, Occurrence } from './occurrences.js';
import type { DrillVerdict } from '../schema/drill-outcome.js';
import type { Slack } from '../schema/inventory.js';
import { readState, updateState } from './state.js';
import { formatIn } from '../time-zone.js';

export interface DrillRunOptions {
  drillFile: string;
  inventoryFile?: string;
  stateDir?: string;
  json?: boolean;
  /** Aborting makes the drill revert its fault and restore, then return `aborted`. */
  signal?: AbortSignal;
  /** Brings back what the fault left dead before the restore (the lab: lab up), as `drillbook drill`. */
  repair?(inventoryFile: string): Promise<string[] | undefined>;
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
  repair?: DrillRunOptions['repair'];
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
  const scheduler = new Scheduler(o);
  return { stop: (mode) => scheduler.stop(mode), done: scheduler.run() };
}

interface RunningDrill {
  occurrence: Occurrence;
  abort: AbortController;
  done: Promise<void>;
}

const tz = (d: ScheduledDrill) => d.schedule.timezone;

/** The daemon's loops over its drills, and the drills they started. */
class Scheduler {
  private readonly clock: Clock;
  private readonly log: DaemonLog;
  private readonly stopping = new AbortController();
  /** Slack posts in flight, awaited before exit. */
  private readonly pending = new Set<Promise<void>>();
  private readonly running = new Map<string, RunningDrill>();

  constructor(private readonly o: DaemonOptions) {
    this.clock = o.clock ?? systemClock;
    this.log = o.log;
  }

  /** Watches every drill until stopped; resolves once every drill in progress finished. */
  async run(): Promise<void> {
    const { o, log } = this;
    log({
      event: 'start',
      message: `watching ${o.drills.length} scheduled drill(s): ${o.drills.map((d) => d.name).join(', ')}`,
    });
    let orphanCheck: Promise<void> = this.watchOrphans();
    const orphanTimer = setInterval(
      () => (orphanCheck = orphanCheck.then(() => this.watchOrphans())),
      o.heartbeatMs,
    );
    await Promise.all(o.drills.map((d) => this.watch(d)));
    // The drills in progress end on their own (finish) or through their signal (abort).
    while (this.running.size) await Promise.all([...this.running.values()].map((r) => r.done));
    clearInterval(orphanTimer);
    await orphanCheck;
    await Promise.allSettled(this.pending);
    await Promise.all(o.allClaims().map((c) => c.close()));
    log({ event: 'exit', message: 'stopped' });
  }

  stop(mode: StopMode): void {
    const { running, log } = this;
    if (!this.stopping.signal.aborted) {
      const names = [...running.keys()];
      const what = names.length
        ? mode === 'abort'
          ? `aborting ${names.join(', ')} (they revert their fault and restore)`
          : `letting ${names.join(', ')} finish`
        : 'no drill in progress';
      log({ event: 'stop', message: `stopping: ${what}` });
      this.stopping.abort();
    } else if (mode === 'abort' && running.size) {
      log({ event: 'stop', message: `aborting ${[...running.keys()].join(', ')}` });
    }
    if (mode === 'abort')
      for (const r of running.values()) r.abort.abort(new Error('the daemon is stopping'));
  }

  private handled(d: ScheduledDrill, occurrence: Occurrence) {
    updateState(this.o.stateDir, d.name, (s) => ({
      ...(s ?? { watchedSince: this.clock.now().toISOString() }),
      lastOccurrence: occurrence.at.toISOString(),
    }));
  }

  /** Start-up: the occurrences missed since the last one handled; returns where to go on from. */
  private async catchUp(d: ScheduledDrill): Promise<Date> {
    const now = this.clock.now();
    const state = readState(this.o.stateDir)[d.name];
    const latest = d.schedule.lastStartedBefore(now);
    if (!state) {
      // Never watched before: nothing was missed, and from now on misses can be counted.
      updateState(this.o.stateDir, d.name, () => ({ watchedSince: now.toISOString() }));
      return latest?.at ?? now;
    }
    const since = new Date(state.lastOccurrence ?? state.watchedSince);
    if (!latest || latest.at <= since) return latest?.at ?? now;
    let missed = 0;
    for (let x = d.schedule.next(since); x && x.at <= latest.at && missed < MISSED_COUNT_LIMIT; missed++)
      x = d.schedule.next(x.at);
    const count = `${missed}${missed === MISSED_COUNT_LIMIT ? '+' : ''} occurrence(s) missed since ${since.toISOString()}`;
    const once = d.schedule.catchUp === 'once';
    this.log({
      event: 'missed',
      drill: d.name,
      occurrence: latest.at,
      timezone: tz(d),
      message: `${count}; ${once ? 'catchUp once: running the latest now' : 'catchUp skip: none is run'}`,
    });
    if (once) await this.handle(d, latest);
    else this.handled(d, latest);
    return latest.at;
  }

  private async watch(d: ScheduledDrill) {
    let cursor = await this.catchUp(d);
    while (!this.stopping.signal.aborted) {
      const next = d.schedule.next(cursor);
      if (!next) {
        this.log({ event: 'skip', drill: d.name, message: 'the schedule has no further occurrence' });
        return;
      }
      this.log({
        event: 'next',
        drill: d.name,
        occurrence: next.at,
        timezone: tz(d),
        message: `starts ${formatIn(next.start, tz(d))}`,
        start: next.start.toISOString(),
      });
      if (!(await sleepUntil(this.clock, next.start, this.stopping.signal))) return;
      cursor = next.at;
      await this.handle(d, next);
    }
  }

  /** Why an occurrence is not run now (the previous one runs, blackout, degraded), if it is not. */
  private refusal(d: ScheduledDrill): { message: string; reason: string } | undefined {
    const previous = this.running.get(d.name);
    if (previous)
      return {
        message: `the previous occurrence (${previous.occurrence.at.toISOString()}) is still running`,
        reason: 'running',
      };
    const blackout = d.schedule.blackout(this.clock.now());
    if (blackout) return { message: `in ${blackout}`, reason: 'blackout' };
    const degraded = readDegraded(this.o.stateDir, d.environment);
    if (degraded)
      return {
        message: `environment ${d.environment} is degraded since ${degraded.since} (${degraded.reason}); restore it, then a manual "drillbook drill ${d.file}" checks its steady state and clears the mark`,
        reason: 'degraded',
      };
    return undefined;
  }

  /** Decides about one occurrence now; a drill that is started runs on in the background. */
  private async handle(d: ScheduledDrill, occurrence: Occurrence) {
    const at = { drill: d.name, occurrence: occurrence.at, timezone: tz(d) };
    const skip = (message: string, details: Record<string, unknown>) => {
      this.log({ event: 'skip', ...at, message, ...details });
      this.handled(d, occurrence);
    };
    const refused = this.refusal(d);
    if (refused) return skip(refused.message, { reason: refused.reason });
    let claimed: Awaited<ReturnType<Claims['claim']>>;
    try {
      claimed = await this.o.claimsFor(d).claim(occurrence, d.environment);
    } catch (err) {
      // Without a claim nobody can tell whether another daemon runs it: never run unclaimed.
      this.log({
        event: 'error',
        ...at,
        message: `cannot claim the occurrence, not running it: ${errorMessage(err)}`,
      });
      return;
    }
    if ('claimedBy' in claimed)
      return skip(`claimed by daemon ${claimed.claimedBy}`, { reason: 'claimed', by: claimed.claimedBy });
    this.handled(d, occurrence);
    if (this.stopping.signal.aborted) {
      await claimed.claim
        .finish({ verdict: 'aborted', detail: 'the daemon stopped before the drill started' })
        .catch(() => undefined);
      return;
    }
    const abort = new AbortController();
    this.running.set(d.name, {
      occurrence,
      abort,
      done: this.execute(d, occurrence, claimed.claim, abort.signal),
    });
  }

  private async execute(d: ScheduledDrill, occurrence: Occurrence, claim: Claim, signal: AbortSignal) {
    const at = { drill: d.name, occurrence: occurrence.at, timezone: tz(d) };
    const { log } = this;
    log({ ...at, event: 'run', message: `running ${d.file} on ${d.environment}` });
    const heartbeat = setInterval(() => {
      claim
        .heartbeat()
        .catch((err) => log({ ...at, event: 'error', message: `heartbeat failed: ${errorMessage(err)}` }));
    }, this.o.heartbeatMs);
    let outcome: Outcome;
    try {
      outcome = await runOccurrence(this.o, d, at, signal);
    } finally {
      clearInterval(heartbeat);
    }
    await claim
      .finish(outcome)
      .catch((err) =>
        log({ ...at, event: 'error', message: `cannot record the outcome: ${errorMessage(err)}` }),
      );
    updateState(this.o.stateDir, d.name, (s) => ({
      ...s!,
      lastRun: {
        occurrence: occurrence.at.toISOString(),
        runId: outcome.runId,
        verdict: outcome.verdict,
        finishedAt: this.clock.now().toISOString(),
      },
    }));
    this.running.delete(d.name);
  }

  private async watchOrphans() {
    for (const claims of this.o.allClaims()) {
      try {
        for (const orphan of await claims.orphans()) {
          const posted = reportOrphan(this.o, orphan, this.clock.now());
          if (posted) {
            this.pending.add(posted);
            void posted.finally(() => this.pending.delete(posted));
          }
        }
      } catch (err) {
        this.log({ event: 'error', message: `cannot look for orphaned drills: ${errorMessage(err)}` });
      }
    }
  }
}
