// Expressions in SQL text are bound parameters ($n), never text: so the SQL itself cannot come
// from an expression, and an expression inside quotes would be the literal text "$n".
import { actions } from '../../actions/registry.js';
import { isSqlField } from '../../actions/types.js';
import { findExpressions } from '../expressions.js';
import { stringsIn } from './expressions.js';
import { error, stepsOf, type Finding, type Rule } from './types.js';

export const sqlText: Rule = {
  name: 'sql-text',
  check(ctx) {
    const findings: Finding[] = [];
    for (const { step, path } of stepsOf(ctx)) {
      const action = actions.get(step.kind);
      if (!action?.sqlFields) continue;
      const withPath = [...path, 'with'];
      for (const [text, where] of stringsIn(step.with, withPath)) {
        if (!isSqlField(action, where.slice(withPath.length))) continue;
        let sites;
        try {
          sites = findExpressions(text);
        } catch {
          continue; // the expressions rule reports an unclosed ${{
        }
        for (const site of sites) {
          if (site.start === 0 && site.end === text.trimEnd().length) {
            findings.push(
              error(
                where,
                'SQL text cannot come from an expression: each ${{ }} in SQL is a bound value ($1, $2 ...); write the SQL here and use expressions for its values',
                site.start,
              ),
            );
          } else if (/['"]$/.test(text.slice(0, site.start)) && /^['"]/.test(text.slice(site.end))) {
            findings.push(
              error(
                where,
                'an expression in SQL is a bound value ($n), not text: remove the quotes around it (inside quotes it would be the literal text "$n")',
                site.start,
              ),
            );
          }
        }
      }
    }
    return findings;
  },
};
