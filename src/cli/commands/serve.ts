// `drillbook serve` and `drillbook approve`: the HTTP receiver for alerts and approvals, and the
// command-line answer to an approval; the server code is loaded only when it runs.
import { Command, Option } from '@commander-js/extra-typings';
import type { Output } from '../../system/output.js';
import { stateDirOption } from './run.js';

export function registerServe(program: Command, io: Output, done: (code: number) => void): void {
  program
    .command('serve')
    .description(
      'receive Alertmanager webhooks and Slack approval clicks; start the runbooks the triggers name',
    )
    .option(
      '--listen <host:port>',
      'where to listen (default 127.0.0.1:8470; beyond loopback needs --tls-cert/--tls-key)',
    )
    .requiredOption('--triggers <file>', 'the triggers file (kind: Triggers)')
    .option(
      '-i, --inventory <file>',
      'inventory (default: the triggers file’s, $DRILLBOOK_INVENTORY, then the lab’s)',
    )
    .option('--tls-cert <file>', 'TLS certificate (PEM)')
    .option('--tls-key <file>', 'TLS private key (PEM)')
    .option('--reports-dir <dir>', 'where run reports go (default reports/ under the working directory)')
    .addOption(stateDirOption())
    .addOption(
      new Option(
        '--on-stop <mode>',
        'on SIGTERM or SIGINT: let the runs in progress finish, or stop them at once (resumable); a second signal always stops them',
      )
        .choices(['finish', 'interrupt'] as const)
        .default('interrupt' as const),
    )
    .action(async (o) => {
      const { serveCommand } = await import('../../serve/command.js');
      done(
        await serveCommand(
          {
            listen: o.listen,
            triggersFile: o.triggers,
            inventoryFile: o.inventory,
            stateDir: o.stateDir,
            reportsDir: o.reportsDir,
            tlsCert: o.tlsCert,
            tlsKey: o.tlsKey,
            onStop: o.onStop,
          },
          io,
        ),
      );
    });

  program
    .command('approve')
    .description('answer an approval a run started by drillbook serve is waiting for')
    .argument('<run-id>', 'the waiting run')
    .argument('<step>', 'the approval step')
    .option('--reject', 'reject instead of approving (the step fails)')
    .option('--reason <text>', 'why, recorded in the journal and the report')
    .addOption(stateDirOption())
    .action(async (runId, stepId, o) => {
      const { approveCommand } = await import('../../serve/approve.js');
      done(approveCommand({ runId, stepId, ...o }, io));
    });
}
