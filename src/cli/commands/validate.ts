// `drillbook validate FILE...`: schema and semantic checks, every finding as file:line:col.
import type { Command } from '@commander-js/extra-typings';
import { ExitCode, type UserError } from '../../errors.js';
import { checkEnvironmentName, checkFile, loadInventory } from '../../runbook/check.js';
import { jsonOutput } from '../../json-output.js';
import type { Output } from '../../system/output.js';

export interface ValidateOptions {
  json?: boolean;
  strict?: boolean;
  inventory?: string;
  env?: string;
}

export function validateFiles(files: string[], options: ValidateOptions, io: Output): number {
  const inventory = options.inventory ? loadInventory(options.inventory) : undefined;
  if (inventory && options.env) checkEnvironmentName(inventory, options.env);
  const results = files.map((file) => checkFile(file, { inventory, envName: options.env }));
  const failed = results.filter((r) => r.errors.length > 0 || (options.strict && r.warnings.length > 0));
  if (options.json) {
    const loc = (e: UserError) => ({ line: e.location?.line, col: e.location?.col, message: e.message });
    io.out(
      jsonOutput(
        {
          files: results.map((r) => ({
            file: r.file,
            kind: r.doc?.kind,
            valid: !failed.includes(r),
            errors: r.errors.map(loc),
            warnings: r.warnings.map(loc),
          })),
        },
        2,
      ),
    );
  } else {
    for (const r of results) {
      for (const e of r.errors) io.err(`${e.format()}`);
      for (const w of r.warnings) io.err(`${w.format()} (warning)`);
      if (r.errors.length === 0)
        io.out(
          `${r.file}: valid ${r.doc?.kind}${r.warnings.length ? ` (${r.warnings.length} warning(s))` : ''}`,
        );
    }
    io.out(`${results.length - failed.length} valid, ${failed.length} invalid`);
  }
  return failed.length ? ExitCode.badInput : ExitCode.ok;
}

export function registerValidate(program: Command, io: Output, done: (code: number) => void): void {
  program
    .command('validate')
    .description('check runbooks, inventories and drills: schema and semantic rules, errors as file:line:col')
    .argument('<files...>', 'YAML files to check')
    .option('--json', 'machine-readable results')
    .option('--strict', 'warnings fail too')
    .option('-i, --inventory <file>', 'also check that targets exist in this inventory')
    .option('-e, --env <name>', 'environment of the inventory to check targets against')
    .action((files, options) => done(validateFiles(files, options, io)));
}
