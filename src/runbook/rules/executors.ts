import { actions } from '../../actions/registry.js';
import { stepsOf, warning, type Rule } from './types.js';

/** A kind that exists in the schema but has no executor yet validates, and says once it cannot run. */
export const executors: Rule = {
  name: 'executors',
  check(ctx) {
    const missing = stepsOf(ctx).filter(({ step }) => !actions.get(step.kind)?.run);
    if (missing.length === 0) return [];
    const kinds = [...new Set(missing.map(({ step }) => step.kind))];
    return [
      warning(
        [...missing[0]!.path, 'kind'],
        `no executor yet in this version of drillbook for: ${kinds.join(', ')}; run will refuse this runbook`,
      ),
    ];
  },
};
