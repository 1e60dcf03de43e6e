import { didYouMean } from '../../system/suggest.js';
import { targetFields, targetNames } from '../targets.js';
import { chosenEnvironment, error, stepsOf, type Finding, type Rule } from './types.js';

const LABELS = {
  node: 'PostgreSQL node',
  ssh: 'SSH host',
  router: 'router',
  record: 'DNS record',
  vantage: 'vantage point',
};

/** With --inventory and --env: the environment exists and every target a runbook names is in it. */
export const inventoryTargets: Rule = {
  name: 'inventory-targets',
  check(ctx) {
    if (!ctx.inventory || !ctx.envName || ctx.doc.kind !== 'Runbook') return [];
    const env = chosenEnvironment(ctx);
    if (!env) return []; // reported once by checkEnvironmentName
    const findings: Finding[] = [];
    for (const { step, path } of stepsOf(ctx)) {
      const input = step.with as Record<string, unknown>;
      for (const [field, kind] of targetFields(step.kind)) {
        const value = input[field];
        const names = Array.isArray(value)
          ? value.map((v, i) => [v, i] as const)
          : [[value, undefined] as const];
        for (const [name, i] of names) {
          if (typeof name !== 'string' || name.includes('${{')) continue;
          const known = targetNames(env, kind);
          if (!known.includes(name)) {
            const where = i === undefined ? [...path, 'with', field] : [...path, 'with', field, i];
            findings.push(
              error(
                where,
                `unknown ${LABELS[kind]} "${name}" in environment "${ctx.envName}"${didYouMean(name, known)}; known: ${known.join(', ') || 'none'}`,
              ),
            );
          }
        }
      }
    }
    return findings;
  },
};
