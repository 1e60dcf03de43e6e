import { parseDuration } from '../../duration.js';
import { DEFAULT_CLIENT_PROFILE } from '../../schema/drill.js';
import { didYouMean } from '../../system/suggest.js';
import { error, warning, type Finding, type Rule } from './types.js';

/**
 * A drill's client profiles make sense: timeouts longer than 0, one name per profile, nodes the
 * environment has, and objectives that judge a profile the drill declares.
 */
export const drillClients: Rule = {
  name: 'drill-clients',
  check(ctx) {
    if (ctx.doc.kind !== 'Drill') return [];
    const { probe, objectives, restore, environment } = ctx.doc.data;
    const out: Finding[] = [];
    const clients = probe?.clients ?? [];
    const seen = new Map<string, number>();
    const env = ctx.inventory?.data.environments[environment];
    clients.forEach((c, i) => {
      const path = ['probe', 'clients', i];
      const first = seen.get(c.name);
      if (first !== undefined)
        out.push(
          error([...path, 'name'], `duplicate client profile "${c.name}" (first at probe.clients.${first})`),
        );
      else seen.set(c.name, i);
      for (const key of ['connectTimeout', 'writeTimeout'] as const) {
        const text = c[key];
        if (text !== undefined && !parseDuration(text))
          out.push(error([...path, key], `${key} must be longer than 0 (got "${text}")`));
      }
      if (env && Array.isArray(c.via)) {
        const known = ['primary', ...Object.keys(env.postgres.nodes)];
        c.via.forEach((node, k) => {
          if (!known.includes(node))
            out.push(
              error(
                [...path, 'via', k],
                `unknown node "${node}" in environment "${environment}"${didYouMean(node, known)}; known: ${known.join(', ')}`,
              ),
            );
        });
      }
    });
    const names = clients.length ? clients.map((c) => c.name) : [DEFAULT_CLIENT_PROFILE];
    if (objectives.profile !== undefined && !names.includes(objectives.profile))
      out.push(
        error(
          ['objectives', 'profile'],
          `objectives.profile names no client profile: "${objectives.profile}"${didYouMean(objectives.profile, names)}; profiles: ${names.join(', ')}`,
        ),
      );
    if (objectives.restoreOutage !== undefined && !restore)
      out.push(
        warning(
          ['objectives', 'restoreOutage'],
          'the drill names no restore runbook: restoreOutage is never measured',
        ),
      );
    return out;
  },
};
