import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { didYouMean } from '../../system/suggest.js';
import { loadDocument } from '../load.js';
import type { Runbook } from '../schema.js';
import { error, type Finding, type Rule } from './types.js';

/**
 * A drill's `restoreInputs` are inputs its restore runbook declares (and not `current`, which the
 * drill finds itself): a typo is found here, not after the fault, when the restore starts.
 */
export const drillRestoreInputs: Rule = {
  name: 'drill-restore-inputs',
  check(ctx) {
    if (ctx.doc.kind !== 'Drill') return [];
    const { restore, restoreInputs } = ctx.doc.data;
    if (!restoreInputs) return [];
    if (!restore) return [error(['restoreInputs'], 'restoreInputs without a restore runbook')];
    const file = resolve(dirname(ctx.doc.source.file), restore);
    if (!existsSync(file)) return []; // drill-files says so
    let declared: string[];
    try {
      declared = Object.keys((loadDocument(file, 'Runbook').data as Runbook).inputs ?? {});
    } catch {
      return []; // the restore runbook's own validation reports it
    }
    const findings: Finding[] = [];
    for (const name of Object.keys(restoreInputs)) {
      if (name === 'current')
        findings.push(
          error(['restoreInputs', name], 'the drill gives "current" itself (the primary after the failover)'),
        );
      else if (!declared.includes(name))
        findings.push(
          error(
            ['restoreInputs', name],
            `the restore runbook has no input "${name}"${didYouMean(name, declared)}; inputs: ${declared.join(', ') || 'none'}`,
          ),
        );
    }
    return findings;
  },
};
