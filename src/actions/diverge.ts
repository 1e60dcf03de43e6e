// diverge: after a split brain, compare tables on the old and the new primary (rows only on one
// side, rows changed on both with both versions) and write a reconciliation report beside the
// run's reports; with policy lww and apply (staging only) the winners go into the new primary.
import { Type } from '@sinclair/typebox';
import { join } from 'node:path';
import { diverge as divergeTables, checkDivergeOptions } from '../connectors/divergence/reconcile.js';
import { OneOf, OrExpr, Strict, Target, Text } from '../schema/common.js';
import { DEFAULT_REPORTS_DIR, reportDirName } from '../system/run-paths.js';
import { defineAction, type ActionContext } from './types.js';

const schema = Strict({
  from: Target('node', 'the old primary (it kept accepting writes after the promotion)'),
  to: Target('node', 'the new, promoted primary'),
  tables: Type.Array(Type.String(), { minItems: 1, description: 'tables to compare (schema.table allowed)' }),
  key: Text('the key column rows are matched by'),
  updatedAt: Type.Optional(Text('the last-write timestamp column (needed by policy lww)')),
  policy: Type.Optional(
    OneOf(['report', 'lww'], { default: 'report', description: 'lww: last write wins; report: only report' }),
  ),
  apply: Type.Optional(
    OrExpr(
      Type.Boolean({
        default: false,
        description: 'write the lww winners into the new primary (staging only)',
      }),
    ),
  ),
  out: Type.Optional(
    Text('report directory (default: reports/<run report dir>/diverge-<step id>, beside the run’s reports)'),
  ),
});

const Count = (description: string) => Type.Integer({ minimum: 0, description });

/** Beside the run's own reports (reports/<date>-<runbook>-<run id>/), one directory per step. */
function defaultOut(ctx: ActionContext): string {
  const header = {
    createdAt: String(ctx.evaluate('run.startedAt')),
    runbook: { name: String(ctx.evaluate('run.runbook')) },
    runId: ctx.runId,
  };
  return join(DEFAULT_REPORTS_DIR, reportDirName(header), `diverge-${ctx.stepId}`);
}

export const diverge = defineAction({
  kind: 'diverge',
  summary: 'compare tables on the old and new primary after a split brain; lww reconciliation on staging',
  schema,
  // A second run compares again: what the first one wrote is now on both sides, so it writes nothing more.
  idempotent: true,
  outputs: Strict({
    onlyOld: Count('rows only on the old primary (split-brain writes, or rows deleted on the new one)'),
    onlyNew: Count('rows only on the new primary'),
    changed: Count('rows changed on both sides'),
    winners: Type.Integer({ minimum: 0, description: 'rows last write wins writes into the new primary' }),
    applied: Type.Integer({ minimum: 0, description: 'rows written (0 without apply)' }),
    report: Text('the Markdown report'),
    reportJson: Text('the JSON report'),
  }),
  example: {
    id: 'reconcile',
    with: {
      from: 'pg1',
      to: '${{ steps.pick.outputs.node }}',
      tables: ['orders'],
      key: 'id',
      updatedAt: 'updated_at',
      policy: 'lww',
      apply: true,
    },
  },
  async run(ctx, input) {
    const r = await divergeTables({
      env: ctx.env,
      from: input.from,
      to: input.to,
      tables: input.tables,
      key: input.key,
      updatedAt: input.updatedAt,
      policy: input.policy ?? 'report',
      // An expression renders to the boolean itself (`${{ inputs.reconcileApply }}`).
      apply: input.apply === true,
      outDir: input.out ?? defaultOut(ctx),
      signal: ctx.signal,
      secret: ctx.secret,
      log: ctx.log,
    });
    const sum = (f: (t: (typeof r.report.tables)[number]) => unknown[]) =>
      r.report.tables.reduce((n, t) => n + f(t).length, 0);
    ctx.log(`reconciliation report: ${r.files.md}`);
    return {
      onlyOld: sum((t) => t.onlyOld),
      onlyNew: sum((t) => t.onlyNew),
      changed: sum((t) => t.changed),
      winners: r.winners,
      applied: r.report.applied?.rows ?? 0,
      report: r.files.md,
      reportJson: r.files.json,
    };
  },
  async dryRun(ctx, input) {
    const { from, to } = checkDivergeOptions({
      ...input,
      env: ctx.env,
      policy: input.policy ?? 'report',
      apply: input.apply === true,
    });
    return `would compare ${input.tables.join(', ')} on ${from} (old) and ${to} (new) by ${input.key}${input.apply === true ? ', then write the last-write winners into ' + to : ''}`;
  },
});
