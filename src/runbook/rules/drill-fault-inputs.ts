import { FAULT_FACTS } from '../../schema/fault-facts.js';
import { ExpressionError, findExpressions, parseSite, references } from '../expressions.js';
import { error, type Finding, type Rule } from './types.js';

/**
 * A drill's inputs may use the environment (`${{ env.backups.store }}`) and what its fault records
 * (`${{ fault.time }}` for delete-rows), nothing else: no steps or inputs exist yet.
 */
export const drillFaultInputs: Rule = {
  name: 'drill-fault-inputs',
  check(ctx) {
    if (ctx.doc.kind !== 'Drill') return [];
    const drill = ctx.doc.data as { inputs?: Record<string, unknown>; fault?: { kind: string } };
    const kind = drill.fault?.kind;
    const facts = kind ? (FAULT_FACTS[kind] ?? []) : [];
    const findings: Finding[] = [];
    for (const [name, value] of Object.entries(drill.inputs ?? {})) {
      if (typeof value !== 'string') continue;
      const where = ['inputs', name];
      try {
        for (const site of findExpressions(value)) {
          for (const path of references(parseSite(site))) {
            if (path[0] === 'env') continue;
            if (path[0] === 'fault' && path.length === 2 && facts.includes(path[1]!)) continue;
            const known = facts.length
              ? `${kind} records ${facts.map((f) => `fault.${f}`).join(', ')}`
              : `${kind ? `fault ${kind}` : 'a drill without a fault'} records nothing`;
            findings.push(
              error(
                where,
                `drill inputs can use env and what the fault records, not ${path.join('.')}; ${known}`,
                site.start,
              ),
            );
          }
        }
      } catch (e) {
        if (!(e instanceof ExpressionError)) throw e;
        findings.push(error(where, e.message, Math.max(0, e.index)));
      }
    }
    return findings;
  },
};
