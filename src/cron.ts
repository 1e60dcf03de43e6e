// Cron expressions through croner. Users write five fields (minute precision); tests may ask for a
// leading seconds field so a schedule fires every few seconds.
import { Cron } from 'croner';

/** The time zone when a schedule names none: UTC, so daemons on machines set to different local
 * zones agree on every occurrence (occurrences are claimed by their instant). */
export const DEFAULT_TIMEZONE = 'UTC';

export interface CronOptions {
  timezone?: string;
  /** Six fields, the first one seconds (tests only; the drill schema keeps five). */
  seconds?: boolean;
}

export interface CronSchedule {
  /** The first match strictly after `after`, or undefined when there is none. */
  next(after: Date): Date | undefined;
  /** The latest match strictly before `before`. */
  previous(before: Date): Date | undefined;
}

/** Compiles an expression; throws croner's own message when it does not parse. */
export function compileCron(expression: string, options: CronOptions = {}): CronSchedule {
  const cron = new Cron(expression, {
    mode: options.seconds ? '6-part' : '5-part',
    timezone: options.timezone ?? DEFAULT_TIMEZONE,
    paused: true,
  });
  return {
    next: (after) => cron.nextRun(after) ?? undefined,
    previous: (before) => cron.previousRuns(1, before)[0],
  };
}

/** Why an expression cannot schedule anything (syntax, or a date that never comes), if it cannot. */
export function cronProblem(expression: string): string | undefined {
  let cron: CronSchedule;
  try {
    cron = compileCron(expression);
  } catch (err) {
    return (err as Error).message.replace(/^CronPattern: /, '');
  }
  return cron.next(new Date()) ? undefined : 'it never matches a date (e.g. February 30)';
}
