// `drillbook daemon [DIR]`: runs the drills' schedules until SIGTERM or SIGINT.
import { Command, Option } from '@commander-js/extra-typings';
import { parseDuration } from '../../duration.js';
import { UserError } from '../../errors.js';
import type { Output } from '../../system/output.js';
import { stateDirOption } from './run.js';

const milliseconds = (text: string | undefined, flag: string) => {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (!ms) throw new UserError(`${flag} must be a duration above 0 such as 10s (got "${text}")`);
  return ms;
};

export function registerDaemon(program: Command, io: Output, done: (code: number) => void): void {
  program
    .command('daemon')
    .description(
      'run the scheduled drills of a directory: one log line per decision, exactly once per occurrence',
    )
    .argument('[dir]', 'directory of drill files (default drills/)')
    .option(
      '-i, --inventory <file>',
      'inventory for drills that name none (default: $DRILLBOOK_INVENTORY, then the lab’s)',
    )
    .addOption(stateDirOption())
    .option('--json', 'decisions as JSON lines')
    .addOption(
      new Option(
        '--on-stop <mode>',
        'on SIGTERM or SIGINT, abort the drill in progress (it reverts its fault and restores) or let it finish',
      )
        .choices(['abort', 'finish'] as const)
        .default('abort' as const),
    )
    .option('--heartbeat <duration>', 'how often a running drill’s claim is refreshed (default 10s)')
    .option(
      '--stale <duration>',
      'a claim without heartbeat for this long belongs to a dead daemon (default 60s)',
    )
    .action(async (dir, o) => {
      const { daemonCommand } = await import('../../schedule/run-daemon.js');
      const { repairLabOf } = await import('../lab-repair.js');
      done(
        await daemonCommand(
          {
            dir,
            inventoryFile: o.inventory,
            stateDir: o.stateDir,
            json: o.json,
            onStop: o.onStop,
            heartbeatMs: milliseconds(o.heartbeat, '--heartbeat'),
            staleMs: milliseconds(o.stale, '--stale'),
            repair: repairLabOf,
          },
          io,
        ),
      );
    });
}
