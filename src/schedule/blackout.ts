// Blackout windows: times when no scheduled drill may start (a release freeze, a busy weekend).
// Dates are whole days in the schedule's time zone, `from` and `to` included; a cron window opens
// at each match of its expression and stays open for its duration.
import { parseDuration } from '../duration.js';
import type { Schedule } from '../schema/drill.js';
import { compileCron, type CronOptions } from '../cron.js';
import { dateIn, formatIn } from '../time-zone.js';

/** The window that covers `at`, described for a log line, or undefined when none does. */
export type BlackoutCheck = (at: Date) => string | undefined;

export function blackoutCheck(schedule: Schedule, options: Pick<CronOptions, 'seconds'> = {}): BlackoutCheck {
  const timezone = schedule.timezone;
  const windows: BlackoutCheck[] = (schedule.blackout ?? []).map((window) => {
    if ('from' in window) {
      return (at) => {
        const day = dateIn(at, timezone);
        return window.from <= day && day <= window.to ? `blackout ${window.from} to ${window.to}` : undefined;
      };
    }
    const cron = compileCron(window.cron, { ...options, timezone });
    const length = parseDuration(window.duration) ?? 0;
    return (at) => {
      // The latest opening at or before `at` decides: when an earlier one still covers `at`,
      // so does the latest (every window has the same length).
      const opened = cron.previous(new Date(at.getTime() + 1));
      return opened && at.getTime() < opened.getTime() + length
        ? `blackout "${window.cron}" for ${window.duration} (opened ${formatIn(opened, timezone)})`
        : undefined;
    };
  });
  return (at) => {
    for (const covers of windows) {
      const hit = covers(at);
      if (hit) return hit;
    }
    return undefined;
  };
}
