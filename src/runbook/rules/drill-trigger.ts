import { error, type Rule } from './types.js';

/**
 * A drill started by an alert waits for the run the environment's serve starts: the inventory must
 * say where that serve keeps its runs, or the drill would strike and then wait for nothing.
 */
export const drillTrigger: Rule = {
  name: 'drill-trigger',
  check(ctx) {
    if (ctx.doc.kind !== 'Drill' || ctx.doc.data.trigger !== 'alert' || !ctx.inventory) return [];
    const name = ctx.doc.data.environment;
    const env = ctx.inventory.data.environments[name];
    if (!env || env.serve) return [];
    return [
      error(
        ['trigger'],
        `trigger: alert needs the serve of environment "${name}" in ${ctx.inventory.file} (serve: { url, stateDir }); lab up --monitoring writes it`,
      ),
    ];
  },
};
