// `drillbook resume RUN_ID`: continues an interrupted run; the engine is loaded only when it runs.
import type { Command } from '@commander-js/extra-typings';
import type { Output } from '../../system/output.js';
import { collect, slackVerbosityOption } from './run.js';

export function registerResume(program: Command, io: Output, done: (code: number) => void): void {
  program
    .command('resume')
    .description('continue an interrupted run: finished steps are not repeated, their outputs restored')
    .argument('<run-id>', 'the run to continue (.drillbook/runs/<run-id>)')
    .option('-i, --inventory <file>', 'inventory file (default: the one the run used)')
    .option('--retry-interrupted', 'run the step that was in flight again')
    .option('--skip-interrupted', 'continue after the step that was in flight without running it again')
    .option('--json', 'run events as NDJSON on stdout')
    .option('-y, --yes', 'approve every approval step in advance')
    .option('--approve <step>', 'approve this approval step in advance (repeatable)', collect, [] as string[])
    .option('--no-slack', 'no Slack thread for this run, even when the environment has Slack')
    .addOption(slackVerbosityOption())
    .action(async (runId, o) => {
      const { resumeCommand } = await import('../../engine/commands.js');
      done(await resumeCommand({ runId, inventoryFile: o.inventory, ...o }, io));
    });
}
