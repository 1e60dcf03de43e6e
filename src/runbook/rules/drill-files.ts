import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { error, type Finding, type Rule } from './types.js';

/** A drill's runbook and restore runbook exist (paths are relative to the drill file). */
export const drillFiles: Rule = {
  name: 'drill-files',
  check(ctx) {
    if (ctx.doc.kind !== 'Drill') return [];
    const base = dirname(ctx.doc.source.file);
    const findings: Finding[] = [];
    for (const key of ['runbook', 'restore', 'inventory'] as const) {
      const rel = ctx.doc.data[key];
      if (rel && !existsSync(resolve(base, rel)))
        findings.push(error([key], `${key} file not found: ${resolve(base, rel)}`));
    }
    return findings;
  },
};
