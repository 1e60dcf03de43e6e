import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { error, type Finding, type Rule } from './types.js';

/** `~REGEX` matchers compile, and the runbooks and inventory a triggers file names exist. */
export const triggers: Rule = {
  name: 'triggers',
  check(ctx) {
    if (ctx.doc.kind !== 'Triggers') return [];
    const base = dirname(ctx.doc.source.file);
    const findings: Finding[] = [];
    const exists = (path: (string | number)[], rel: string | undefined) => {
      if (rel && !existsSync(resolve(base, rel)))
        findings.push(error(path, `file not found: ${resolve(base, rel)}`));
    };
    exists(['inventory'], ctx.doc.data.inventory);
    ctx.doc.data.triggers.forEach((t, i) => {
      exists(['triggers', i, 'runbook'], t.runbook);
      exists(['triggers', i, 'onResolved'], t.onResolved);
      for (const [label, value] of Object.entries(t.match)) {
        if (!value.startsWith('~')) continue;
        try {
          new RegExp(`^(?:${value.slice(1)})$`);
        } catch (err) {
          findings.push(
            error(
              ['triggers', i, 'match', label],
              `label "${label}": invalid regular expression: ${(err as Error).message}`,
            ),
          );
        }
      }
    });
    return findings;
  },
};
