import { actions } from '../../actions/registry.js';
import { DURATION_PATTERN, formatDuration, MAX_DURATION_MS, parseDuration } from '../../duration.js';
import type { PathSegment } from '../source.js';
import { error, stepsOf, type Finding, type Rule } from './types.js';

const TOO_LONG = `is longer than the longest duration drillbook can time (${formatDuration(MAX_DURATION_MS)})`;

/** A duration past what a timer can hold would fire at once (600h fired after 10 ms): refused. */
function checkTooLong(out: Finding[], text: unknown, ms: number | undefined, path: () => PathSegment[]) {
  if (ms !== undefined && ms > MAX_DURATION_MS) out.push(error(path(), `${text} ${TOO_LONG}`));
}

const durationOf = (text: unknown) => (typeof text === 'string' ? parseDuration(text) : undefined);

/** Per kind, the `with:` fields its schema types as durations (the schema never changes). */
const durationKeys = new Map<string, Set<string>>();

function durationKeysOf(kind: string): Set<string> {
  let keys = durationKeys.get(kind);
  if (!keys) {
    const props = (actions.get(kind)?.schema as { properties?: Record<string, { pattern?: string }> })
      ?.properties;
    keys = new Set(Object.keys(props ?? {}).filter((k) => props![k]?.pattern === DURATION_PATTERN));
    durationKeys.set(kind, keys);
  }
  return keys;
}

/** The schema checks the shape of durations; this checks that their values make sense. */
export const durations: Rule = {
  name: 'durations',
  check(ctx) {
    const out: Finding[] = [];
    if (ctx.doc.kind === 'Runbook') {
      const rto = ctx.doc.data.objectives?.rto;
      checkTooLong(out, rto, durationOf(rto), () => ['objectives', 'rto']);
    }
    for (const { step, path } of stepsOf(ctx)) {
      for (const key of ['timeout', 'budget'] as const) {
        const text = step[key];
        if (text === undefined) continue;
        const ms = durationOf(text);
        if (!ms) out.push(error([...path, key], `${key} must be longer than 0 (got "${text}")`));
        else checkTooLong(out, text, ms, () => [...path, key]);
      }
      const { retry } = step;
      const delay = durationOf(retry?.delay);
      const maxDelay = durationOf(retry?.maxDelay);
      checkTooLong(out, retry?.delay, delay, () => [...path, 'retry', 'delay']);
      checkTooLong(out, retry?.maxDelay, maxDelay, () => [...path, 'retry', 'maxDelay']);
      const input = step.with;
      const keys = durationKeysOf(step.kind);
      if (keys.size && input && typeof input === 'object') {
        for (const key in input) {
          const text = keys.has(key) ? (input as Record<string, unknown>)[key] : undefined;
          if (text !== undefined) checkTooLong(out, text, durationOf(text), () => [...path, 'with', key]);
        }
      }
      if (delay !== undefined && maxDelay !== undefined && maxDelay < delay) {
        out.push(
          error(
            [...path, 'retry', 'maxDelay'],
            `retry.maxDelay (${retry?.maxDelay}) is shorter than retry.delay (${retry?.delay})`,
          ),
        );
      }
    }
    return out;
  },
};
