// Time zones by IANA name, through Intl: checking a name, and showing an instant in a zone.
import { DEFAULT_TIMEZONE } from './cron.js';

/** Why `name` is not a time zone this Node.js knows, if it is not. */
export function timezoneProblem(name: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return undefined;
  } catch {
    return `unknown time zone "${name}" (an IANA name such as Europe/Paris or UTC)`;
  }
}

export const knownTimezones = () => Intl.supportedValuesOf('timeZone');

const formats = new Map<string, Intl.DateTimeFormat>();

function partsIn(date: Date, timezone = DEFAULT_TIMEZONE) {
  let format = formats.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'longOffset',
    });
    formats.set(timezone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(date).map((p) => [p.type, p.value]));
  return parts as Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'timeZoneName', string>;
}

/** The calendar date of an instant in a zone, as YYYY-MM-DD (comparable as text). */
export function dateIn(date: Date, timezone?: string): string {
  const p = partsIn(date, timezone);
  return `${p.year}-${p.month}-${p.day}`;
}

/** `2026-12-01 03:00 +01:00`: the wall-clock time in the zone and its offset from UTC. */
export function formatIn(date: Date, timezone?: string): string {
  const p = partsIn(date, timezone);
  const seconds = p.second === '00' ? '' : `:${p.second}`;
  const offset = p.timeZoneName === 'GMT' ? '+00:00' : p.timeZoneName.replace('GMT', '');
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}${seconds} ${offset}`;
}
