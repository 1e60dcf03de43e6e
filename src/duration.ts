// Durations as written in runbooks: 250ms, 30s, 5m, 1h (and combinations such as 1m30s).
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

export const DURATION_PATTERN = '^(\\d+(\\.\\d+)?(ms|s|m|h))+$|^0$';

/** Node's timers hold at most 2^31-1 ms (about 24.8 days); a longer one fires at once. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** Compiled once: validation parses every step's durations. */
const DURATION = new RegExp(DURATION_PATTERN);

/** Milliseconds of a duration string, or undefined when it does not parse. */
export function parseDuration(text: string | number): number | undefined {
  if (text === 0 || text === '0') return 0;
  if (typeof text !== 'string' || !DURATION.test(text)) return undefined;
  let total = 0;
  for (const [, n, unit] of text.matchAll(PART)) total += Number(n) * UNIT_MS[unit as keyof typeof UNIT_MS];
  return total;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return s ? `${m}m${s}s` : `${m}m`;
}
