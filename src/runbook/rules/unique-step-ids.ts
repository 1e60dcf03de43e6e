import { error, stepsOf, type Rule } from './types.js';

export const uniqueStepIds: Rule = {
  name: 'unique-step-ids',
  check(ctx) {
    const seen = new Map<string, string>();
    return stepsOf(ctx).flatMap(({ step, path }) => {
      const first = seen.get(step.id);
      if (first) return [error([...path, 'id'], `duplicate step id "${step.id}" (first used at ${first})`)];
      seen.set(step.id, path.join('.'));
      return [];
    });
  },
};
