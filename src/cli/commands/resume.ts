// `drillbook resume RUN_ID`: continues an interrupted run; the engine is loaded only when it runs.
import { Option, type Command } from '@commander-js/extra-typings';
import type { Output } from '../../system/output.js';
import { collect, slackVerbosityOption, stateDirOption } from './run.js';

export function registerResume(program: Command, io: Output, done: (code: number) => void): void {
  program
    .command('resume')
    .description('continue an interrupted run: finished steps are not repeated, their outputs restored')
    .argument('<run-id>', 'the run to continue (<state dir>/runs/<run-id>)')
    .option('-i, --inventory <file>', 'inventory file (default: the one the run used)')
    .option('--retry-interrupted', 'run the step that was in flight again')
    .option('--skip-interrupted', 'continue after the step that was in flight without running it again')
    .addOption(
      new Option(
        '--orphans <policy>',
        'a command of the crashed run still running: wait for it, or kill its process group',
      )
        .choices(['wait', 'kill'] as const)
        .default('wait' as const),
    )
    .option('--orphan-wait <duration>', 'with --orphans wait: how long to wait before refusing (default 60s)')
    .option('--json', 'run events as NDJSON on stdout')
    .option('-y, --yes', 'approve every approval step in advance')
    .option('--approve <step>', 'approve this approval step in advance (repeatable)', collect, [] as string[])
    .option('--no-slack', 'no Slack thread for this run, even when the environment has Slack')
    .addOption(slackVerbosityOption())
    .addOption(stateDirOption())
    .action(async (runId, o) => {
      const { resumeCommand } = await import('../../compose/commands.js');
      done(await resumeCommand({ runId, inventoryFile: o.inventory, ...o }, io));
    });
}
