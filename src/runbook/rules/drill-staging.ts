import { didYouMean } from '../../system/suggest.js';
import { error, type Rule } from './types.js';

/** Drills act only on environments labelled staging. */
export const drillStaging: Rule = {
  name: 'drill-staging',
  check(ctx) {
    if (ctx.doc.kind !== 'Drill' || !ctx.inventory) return [];
    const name = ctx.doc.data.environment;
    const envs = ctx.inventory.data.environments;
    const env = envs[name];
    if (!env) {
      return [
        error(
          ['environment'],
          `environment "${name}" is not in ${ctx.inventory.file}${didYouMean(name, Object.keys(envs))}`,
        ),
      ];
    }
    return env.label === 'staging'
      ? []
      : [
          error(
            ['environment'],
            `drills run only on environments labelled staging; "${name}" is labelled ${env.label}`,
          ),
        ];
  },
};
