// The daemon's decisions, one line each: timestamped text for people, or JSON lines with --json.
import type { Output } from '../system/output.js';
import { jsonOutput } from '../json-output.js';
import { formatIn } from '../time-zone.js';

export interface DaemonEvent {
  event:
    | 'start' // the daemon is up
    | 'next' // the next occurrence of a drill and when it starts
    | 'missed' // occurrences passed while no scheduler ran
    | 'skip' // an occurrence that will not run here, and why
    | 'run' // this daemon claimed an occurrence and starts its drill
    | 'done' // the drill ended: its verdict
    | 'error' // the drill (or a claim) failed in an unexpected way
    | 'orphan' // a daemon died mid-drill: its environment needs a restore
    | 'output' // a line the drill printed
    | 'stop' // asked to stop
    | 'exit'; // stopped
  drill?: string;
  /** The occurrence's cron match. */
  occurrence?: Date;
  /** Its time zone, to show `occurrence` in it. */
  timezone?: string;
  message: string;
  [detail: string]: unknown;
}

export type DaemonLog = (event: DaemonEvent) => void;

export function daemonLog(io: Output, options: { json?: boolean; now: () => Date }): DaemonLog {
  return ({ event, drill, occurrence, timezone, message, ...details }) => {
    const time = options.now().toISOString();
    if (options.json) {
      io.out(jsonOutput({ time, event, drill, occurrence: occurrence?.toISOString(), message, ...details }));
      return;
    }
    const at = occurrence ? ` [${formatIn(occurrence, timezone)}]` : '';
    io.out(`${time} ${event.padEnd(6)} ${drill ? `${drill}${at}: ` : ''}${message}`);
  };
}
