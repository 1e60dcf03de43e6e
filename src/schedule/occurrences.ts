// The occurrences of one drill's schedule and when each one starts: the cron match plus a jitter
// delay derived from the drill's name and the occurrence, so every scheduler (and `schedule list`)
// computes the same start without talking to the others.
import { createHash } from 'node:crypto';
import { parseDuration } from '../duration.js';
import type { Schedule } from '../schema/drill.js';
import { blackoutCheck, type BlackoutCheck } from './blackout.js';
import { compileCron, DEFAULT_TIMEZONE, type CronOptions, type CronSchedule } from '../cron.js';

export interface Occurrence {
  drill: string;
  /** The cron match: the occurrence's identity (claims and state are keyed by it). */
  at: Date;
  /** When it starts: `at` plus the jitter delay. */
  start: Date;
}

export interface DrillSchedule {
  drill: string;
  timezone: string;
  catchUp: 'skip' | 'once';
  /** The first occurrence whose cron match is strictly after `after`. */
  next(after: Date): Occurrence | undefined;
  /** The latest occurrence that started before `now` (for catch-up). */
  lastStartedBefore(now: Date): Occurrence | undefined;
  blackout: BlackoutCheck;
}

/** A delay in [0, jitter), whole seconds, the same for a given drill and occurrence everywhere. */
export function jitterDelay(drill: string, at: Date, jitterMs: number): number {
  if (jitterMs < 1000) return 0;
  const hash = createHash('sha256').update(`${drill}@${at.toISOString()}`).digest().readUInt32BE(0);
  return Math.floor((hash / 2 ** 32) * (jitterMs / 1000)) * 1000;
}

export function drillSchedule(
  drill: string,
  schedule: Schedule,
  options: Pick<CronOptions, 'seconds'> = {},
): DrillSchedule {
  const timezone = schedule.timezone ?? DEFAULT_TIMEZONE;
  const cron: CronSchedule = compileCron(schedule.cron, { ...options, timezone });
  const jitterMs = schedule.jitter ? (parseDuration(schedule.jitter) ?? 0) : 0;
  const occurrence = (at: Date): Occurrence => ({
    drill,
    at,
    start: new Date(at.getTime() + jitterDelay(drill, at, jitterMs)),
  });
  return {
    drill,
    timezone,
    catchUp: schedule.catchUp ?? 'skip',
    next(after) {
      const at = cron.next(after);
      return at && occurrence(at);
    },
    lastStartedBefore(now) {
      // The latest match may still be waiting out its jitter; then the one before it is the last.
      let at = cron.previous(new Date(now.getTime() + 1));
      while (at && occurrence(at).start > now) at = cron.previous(at);
      return at && occurrence(at);
    },
    blackout: blackoutCheck(schedule, options),
  };
}
