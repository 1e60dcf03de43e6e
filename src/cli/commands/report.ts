// `drillbook report [RUN_ID] [--format ...] [--out DIR]` and `drillbook report --history`; the
// renderers are loaded only when the command runs.
import type { Command } from '@commander-js/extra-typings';
import type { Output } from '../../system/output.js';
import { stateDirOption } from './run.js';

export function registerReport(program: Command, io: Output, done: (code: number) => void): void {
  program
    .command('report')
    .description('re-render a run’s reports from its journal; --history for the trend across runs and drills')
    .argument('[run-id]', 'the run (<state dir>/runs/<run-id>)')
    .option('-f, --format <list>', 'comma-separated: md, html, json, junit, prom (default: all)')
    .option('-o, --out <dir>', 'the reports directory (default: reports)')
    .option('--history', 'write <dir>/index.html and print RTO/RPO per runbook and drill over time')
    .option('--dir <dir>', 'with --history: the reports directory to read (default: reports)')
    .addOption(stateDirOption())
    .action(async (runId, o) => {
      const { reportCommand } = await import('../../report/command.js');
      done(
        reportCommand(
          { runId, formats: o.format, out: o.dir ?? o.out, history: o.history, stateDir: o.stateDir },
          io,
        ),
      );
    });
}
