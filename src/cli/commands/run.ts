// `drillbook run RUNBOOK --env E`. The engine (and pg, ssh and listr2 behind it) is loaded only
// when one of them runs, so `validate` starts fast.
import { Option, type Command } from '@commander-js/extra-typings';
import type { SlackVerbosity } from '../../report/slack-run.js';
import type { Output } from '../../system/output.js';

export const collect = (value: string, previous: string[]) => [...previous, value];

/** What the run's Slack thread gets as replies; the header and the summary come always. */
export const slackVerbosityOption = () =>
  new Option('--slack-verbosity <level>', 'Slack replies: every step, failures only, or the summary only')
    .choices(['all', 'failures', 'summary'] as const satisfies readonly SlackVerbosity[])
    .default('all' as const);

/** Where runs, locks and marks live: one place per machine, whatever the working directory. */
export const stateDirOption = () =>
  new Option(
    '--state-dir <dir>',
    'where runs, locks and marks live (default: $DRILLBOOK_STATE_DIR, else $XDG_STATE_HOME/drillbook, else /var/lib/drillbook as root, ~/.local/state/drillbook otherwise)',
  );

export function registerRun(program: Command, io: Output, done: (code: number) => void): void {
  program
    .command('run')
    .description('execute a runbook step by step: budgets, retries, rollback, a journal (resumable)')
    .argument('<runbook>', 'runbook YAML file')
    .requiredOption('-e, --env <name>', 'environment of the inventory')
    .option('-i, --inventory <file>', 'inventory file (default: $DRILLBOOK_INVENTORY, then the local lab’s)')
    .option('--set <key=value>', 'set an input (repeatable)', collect, [] as string[])
    .option('--dry-run', 'show the plan and what each step would do; change nothing')
    .option('--json', 'run events as NDJSON on stdout')
    .option('-y, --yes', 'approve every approval step in advance')
    .option('--approve <step>', 'approve this approval step in advance (repeatable)', collect, [] as string[])
    .option('--run-id <id>', 'the run id (default: time, runbook name and a random suffix)')
    .option('--no-slack', 'no Slack thread for this run, even when the environment has Slack')
    .addOption(slackVerbosityOption())
    .addOption(stateDirOption())
    .action(async (runbookFile, o) => {
      const { runCommand } = await import('../../compose/commands.js');
      done(
        await runCommand(
          {
            runbookFile,
            envName: o.env,
            inventoryFile: o.inventory,
            set: o.set,
            dryRun: o.dryRun,
            json: o.json,
            yes: o.yes,
            approve: o.approve,
            runId: o.runId,
            slack: o.slack,
            slackVerbosity: o.slackVerbosity,
            stateDir: o.stateDir,
          },
          io,
        ),
      );
    });
}
