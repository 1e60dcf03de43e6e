// The five standard cron fields as sets of numbers, for the exports: a plain crontab and systemd's
// OnCalendar= read the standard syntax only, so croner's extensions (L, W, #, ?) are refused here.
import { UserError } from '../errors.js';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** First value of `names` (months count from 1). */
  namesFrom?: number;
}

const FIELDS: FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, namesFrom: 1 },
  { name: 'day of week', min: 0, max: 7, names: DAYS, namesFrom: 0 },
];

export interface CronFields {
  minute: number[];
  hour: number[];
  dayOfMonth: number[];
  month: number[];
  /** 0 is Sunday (7 is folded into 0). */
  dayOfWeek: number[];
  /** Which fields were `*`: cron runs a day when day of month OR day of week matches, if both are set. */
  any: { dayOfMonth: boolean; dayOfWeek: boolean };
}

function parseField(text: string, spec: FieldSpec, expression: string): number[] {
  const refuse = () =>
    new UserError(
      `cron expression "${expression}": ${spec.name} "${text}" uses syntax a plain crontab or systemd cannot read (use "drillbook daemon")`,
    );
  const value = (v: string) => {
    const named = spec.names?.indexOf(v.toLowerCase()) ?? -1;
    const n = named >= 0 ? named + (spec.namesFrom ?? 0) : /^\d+$/.test(v) ? Number(v) : NaN;
    if (!(n >= spec.min && n <= spec.max)) throw refuse();
    return n;
  };
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|\w+)(?:-(\w+))?(?:\/(\d+))?$/.exec(part);
    if (!m) throw refuse();
    const [, from, to, step] = m;
    const lo = from === '*' ? spec.min : value(from!);
    const hi = from === '*' ? spec.max : to !== undefined ? value(to) : step ? spec.max : lo;
    const by = step ? Number(step) : 1;
    if (by < 1 || hi < lo) throw refuse();
    for (let n = lo; n <= hi; n += by) out.add(n);
  }
  return [...out].sort((a, b) => a - b);
}

export function cronFields(expression: string): CronFields {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) throw new UserError(`cron expression "${expression}" must have five fields`);
  const [minute, hour, dayOfMonth, month, dayOfWeek] = parts.map((p, i) =>
    parseField(p, FIELDS[i]!, expression),
  );
  return {
    minute: minute!,
    hour: hour!,
    dayOfMonth: dayOfMonth!,
    month: month!,
    dayOfWeek: [...new Set(dayOfWeek!.map((d) => d % 7))].sort((a, b) => a - b),
    any: { dayOfMonth: parts[2] === '*', dayOfWeek: parts[4] === '*' },
  };
}

const SYSTEMD_DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const two = (n: number) => String(n).padStart(2, '0');

/** systemd OnCalendar= values with the same matches; two when cron's day-of-month-or-week rule
 * applies (systemd requires both, so each side gets its own line and the timer fires on either). */
export function onCalendar(expression: string, timezone: string): string[] {
  const f = cronFields(expression);
  const list = (values: number[], full: number) => (values.length === full ? '*' : values.map(two).join(','));
  const time = `${list(f.hour, 24)}:${list(f.minute, 60)}:00`;
  const month = list(f.month, 12);
  const days = f.dayOfWeek.map((d) => SYSTEMD_DAYS[d]).join(',');
  const line = (dow: string, dom: string) => `${dow ? `${dow} ` : ''}*-${month}-${dom} ${time} ${timezone}`;
  const dom = list(f.dayOfMonth, 31);
  if (f.any.dayOfMonth || f.any.dayOfWeek) return [line(f.any.dayOfWeek ? '' : days, dom)];
  return [line('', dom), line(days, '*')];
}
