// `drillbook drill DRILL`: fault → runbook → probe figures → restore; pass or fail.
import type { Command } from '@commander-js/extra-typings';
import type { Output } from '../../system/output.js';
import { collect, stateDirOption } from './run.js';

export function registerDrill(program: Command, io: Output, done: (code: number) => void): void {
  program
    .command('drill')
    .description('inject a fault on staging, run the runbook, measure what clients saw (RTO, RPO), restore')
    .argument('<drill>', 'drill YAML file (kind: Drill)')
    .option('-i, --inventory <file>', 'inventory, when the drill names none (default: the local lab’s)')
    .option('--json', 'NDJSON events on stdout')
    .addOption(stateDirOption())
    .option(
      '--set <key=value>',
      'override an input the drill gives its runbook (repeatable)',
      collect,
      [] as string[],
    )
    .action(async (drillFile, options) => {
      const { runDrill } = await import('../../drill/run-drill.js');
      const { formatOutcome } = await import('../../drill/summary.js');
      const { parseSets } = await import('../../runbook/inputs.js');
      const { repairLabOf } = await import('../lab-repair.js');
      const outcome = await runDrill(
        {
          drillFile,
          inventoryFile: options.inventory,
          json: options.json,
          stateDir: options.stateDir,
          inputs: parseSets(options.set),
          repair: repairLabOf,
        },
        io,
      );
      if (!options.json) io.out(formatOutcome(outcome));
      done(outcome.exitCode);
    });
}
