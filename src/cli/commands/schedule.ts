// `drillbook schedule list|export [DIR]`: the drills' schedules, and the same as OS scheduler
// entries. Their code loads only when they run (croner is small and bundled for validate anyway).
import { realpathSync } from 'node:fs';
import { Command, Option } from '@commander-js/extra-typings';
import { UserError } from '../../errors.js';
import type { Output } from '../../system/output.js';
import { stateDirOption } from './run.js';

const DIR_HELP = 'directory of drill files (default drills/)';

/** The command that runs this drillbook again: the same node and the same script. */
const thisDrillbook = () => `${process.execPath} ${realpathSync(process.argv[1] ?? 'bin/drillbook.js')}`;

export function registerSchedule(program: Command, io: Output, done: (code: number) => void): void {
  const schedule = program
    .command('schedule')
    .description('scheduled drills: list them, export them for cron or systemd');

  schedule
    .command('list')
    .description(
      'every scheduled drill with its next occurrences in its time zone, and why one would be skipped',
    )
    .argument('[dir]', DIR_HELP)
    .option('-n, --count <n>', 'occurrences per drill (default 5)')
    .option('--from <time>', 'list from this ISO time instead of now')
    .addOption(stateDirOption())
    .option('--json', 'machine-readable')
    .action(async (dir, o) => {
      const { listCommand } = await import('../../schedule/list.js');
      const count = o.count === undefined ? undefined : Number(o.count);
      if (count !== undefined && !(Number.isInteger(count) && count > 0))
        throw new UserError(`--count must be a whole number above 0 (got "${o.count}")`);
      const from = o.from === undefined ? undefined : new Date(o.from);
      if (from && Number.isNaN(from.getTime())) throw new UserError(`--from is not an ISO time: "${o.from}"`);
      done(listCommand({ dir, count, from, stateDir: o.stateDir, json: o.json }, io));
    });

  schedule
    .command('export')
    .description(
      'the schedules as systemd timer and service units or crontab lines that run "drillbook drill FILE"',
    )
    .argument('[dir]', DIR_HELP)
    .addOption(
      new Option('--format <format>', 'what to write')
        .choices(['systemd', 'cron'] as const)
        .makeOptionMandatory(),
    )
    .option(
      '--drillbook <command>',
      'the command that runs drillbook (default: this node and this drillbook)',
    )
    .option('-i, --inventory <file>', 'pass this inventory to each drill')
    .option('--work-dir <dir>', 'where the drills run (default: the current directory)')
    .option('-o, --output-dir <dir>', 'systemd: write the unit files here')
    .action(async (dir, o) => {
      const { exportCommand } = await import('../../schedule/export.js');
      done(
        exportCommand(
          {
            dir,
            format: o.format,
            drillbook: o.drillbook ?? thisDrillbook(),
            inventoryFile: o.inventory,
            workDir: realpathSync(o.workDir ?? '.'),
            outputDir: o.outputDir,
          },
          io,
        ),
      );
    });
}
