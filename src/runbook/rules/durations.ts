import { parseDuration } from '../../duration.js';
import { error, stepsOf, type Rule } from './types.js';

/** The schema checks the shape of durations; this checks that their values make sense. */
export const durations: Rule = {
  name: 'durations',
  check(ctx) {
    return stepsOf(ctx).flatMap(({ step, path }) => {
      const out = [];
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
    });
  },
};
