import { actions } from '../../actions/registry.js';
import { DURATION_PATTERN, formatDuration, MAX_DURATION_MS, parseDuration } from '../../duration.js';
import type { PathSegment } from '../source.js';
import { error, stepsOf, type Finding, type Rule } from './types.js';

/** A duration past what a timer can hold would fire at once (600h fired after 10 ms): refused. */
function tooLong(text: unknown, path: PathSegment[]): Finding[] {
  const ms = typeof text === 'string' ? parseDuration(text) : undefined;
  if (ms === undefined || ms <= MAX_DURATION_MS) return [];
  return [
    error(
      path,
      `${text} is longer than the longest duration drillbook can time (${formatDuration(MAX_DURATION_MS)})`,
    ),
  ];
}

/** The `with:` fields of a step that its kind's schema types as durations. */
function durationFields(kind: string, input: unknown): [string, unknown][] {
  const props = (actions.get(kind)?.schema as { properties?: Record<string, { pattern?: string }> })
    ?.properties;
  if (!props || !input || typeof input !== 'object') return [];
  return Object.entries(input).filter(([k]) => props[k]?.pattern === DURATION_PATTERN);
}

/** The schema checks the shape of durations; this checks that their values make sense. */
export const durations: Rule = {
  name: 'durations',
  check(ctx) {
    const rto =
      ctx.doc.kind === 'Runbook' ? tooLong(ctx.doc.data.objectives?.rto, ['objectives', 'rto']) : [];
    return rto.concat(
      stepsOf(ctx).flatMap(({ step, path }) => {
        const out: Finding[] = [];
        for (const key of ['timeout', 'budget'] as const) out.push(...tooLong(step[key], [...path, key]));
        for (const key of ['delay', 'maxDelay'] as const)
          out.push(...tooLong(step.retry?.[key], [...path, 'retry', key]));
        for (const [key, value] of durationFields(step.kind, step.with))
          out.push(...tooLong(value, [...path, 'with', key]));
        for (const key of ['timeout', 'budget'] as const) {
          const text = step[key];
          if (text !== undefined && !parseDuration(text)) {
            out.push(error([...path, key], `${key} must be longer than 0 (got "${text}")`));
          }
        }
        const { retry } = step;
        const delay = retry?.delay ? parseDuration(retry.delay) : undefined;
        const maxDelay = retry?.maxDelay ? parseDuration(retry.maxDelay) : undefined;
        if (delay !== undefined && maxDelay !== undefined && maxDelay < delay) {
          out.push(
            error(
              [...path, 'retry', 'maxDelay'],
              `retry.maxDelay (${retry?.maxDelay}) is shorter than retry.delay (${retry?.delay})`,
            ),
          );
        }
        return out;
      }),
    );
  },
};
