// `drillbook diverge --from OLD --to NEW --table T --key COL`: after a split brain, what each
// primary has that the other lacks; with --policy lww --apply (staging only) the winners go into
// the new primary. The report is written first, always.
import { Option, type Command } from '@commander-js/extra-typings';
import { join } from 'node:path';
import { ExitCode } from '../../errors.js';
import type { Output } from '../../system/output.js';

const stamp = () => new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);

export function registerDiverge(program: Command, io: Output, done: (code: number) => void): void {
  program
    .command('diverge')
    .description(
      'compare tables on the old and the new primary after a split brain; --policy lww --apply writes the winners into the new one (staging only)',
    )
    .requiredOption('--from <node>', 'the old primary (it kept accepting writes)')
    .requiredOption('--to <node>', 'the new, promoted primary')
    .requiredOption('--table <list>', 'comma-separated tables (schema.table allowed)')
    .requiredOption('--key <column>', 'the key column rows are matched by')
    .option('--updated-at <column>', 'the last-write timestamp column (needed by --policy lww)')
    .addOption(
      new Option('--policy <policy>', 'lww: last write wins; report: only report')
        .choices(['lww', 'report'] as const)
        .default('report' as const),
    )
    .option('--apply', 'write the winners into the new primary (staging only; needs --policy lww)')
    .requiredOption('-e, --env <name>', 'environment of the inventory')
    .option('-i, --inventory <file>', 'inventory file (default: the local lab’s)')
    .option('-o, --out <dir>', 'report directory (default: reports/diverge-<time>-<from>-<to>)')
    .action(async (o) => {
      const { environmentOf } = await import('../../runbook/prepare.js');
      const { diverge } = await import('../../connectors/divergence/reconcile.js');
      const { resolveSecretRef } = await import('../../connectors/secrets.js');
      const { env } = environmentOf(o.inventory, o.env);
      const r = await diverge({
        env,
        from: o.from,
        to: o.to,
        tables: o.table.split(','),
        key: o.key,
        updatedAt: o.updatedAt,
        policy: o.policy,
        apply: o.apply ?? false,
        outDir: o.out ?? join('reports', `diverge-${stamp()}-${o.from}-${o.to}`),
        secret: resolveSecretRef,
      });
      for (const t of r.report.tables)
        io.out(
          `${t.table}: ${t.onlyOld.length} only on ${r.report.from}, ${t.onlyNew.length} only on ${r.report.to}, ${t.changed.length} changed on both`,
        );
      if (r.report.policy === 'lww')
        io.out(
          r.report.applied
            ? `applied: ${r.report.applied.rows} row(s) written into ${r.report.to} (last write wins)`
            : `last write wins would write ${r.winners} row(s) into ${r.report.to} (not applied: --apply)`,
        );
      io.out(`report: ${r.files.md}`);
      done(ExitCode.ok);
    });
}
