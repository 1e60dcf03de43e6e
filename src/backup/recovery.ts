// Point-in-time recovery settings and the reading of how a recovery ended, from the server log.
import { touchServiceFile } from './scratch.js';
import type { Scratch } from './scratch.js';

export interface RecoveryTarget {
  time?: string;
  lsn?: string;
  xid?: string;
  name?: string;
}

/** The one recovery_target_* setting a target asks for; undefined unless exactly one is given. */
export function targetSetting(target: RecoveryTarget): [string, string] | undefined {
  const given = Object.entries(target).filter(([, v]) => v !== undefined && v !== '');
  if (given.length !== 1) return undefined;
  const [kind, value] = given[0]!;
  return [`recovery_target_${kind}`, String(value)];
}

/** recovery.signal plus settings that replay the archive up to the target, then promote. */
export function configureRecovery(
  scratch: Scratch,
  archive: string,
  target: RecoveryTarget,
  inclusive: boolean,
) {
  const [key, value] = targetSetting(target)!;
  touchServiceFile(scratch, 'recovery.signal');
  scratch.configure({
    restore_command: `cp "${archive}/%f" "%p"`,
    [key]: value,
    recovery_target_inclusive: inclusive ? 'on' : 'off',
    recovery_target_action: 'promote',
    recovery_target_timeline: 'latest',
  });
}

/** "recovery stopping before commit of transaction 750, time ..." : where the replay stopped. */
export const stopPoint = (log: string) => /LOG: {2}(recovery stopping [^\n]*)/.exec(log)?.[1];

/**
 * Why a recovery ended short of its target: the last segment the archive did not have (each
 * recovery asks for the next segment until one is missing, so the last miss is the gap).
 */
export function missingSegment(log: string): string | undefined {
  if (
    !/recovery ended before configured recovery target was reached|before consistent recovery point/.test(log)
  ) {
    return undefined;
  }
  const misses = [...log.matchAll(/cannot stat '[^']*\/([0-9A-F]{24})'/g)];
  return misses.at(-1)?.[1];
}
