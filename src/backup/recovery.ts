// Point-in-time recovery settings and the reading of how a recovery ended, from the server log.
import { UserError } from '../errors.js';
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

/** Where a backup becomes consistent: a recovery from it cannot stop before this. */
export interface ConsistencyPoint {
  label: string;
  /** When the backup ended (at or after its consistency point). */
  finishedAt: string;
  stopLsn: string;
}

/** An LSN as a number (`16/B374D848`), or undefined when it is not one. */
const lsnValue = (lsn: string): bigint | undefined => {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn.trim());
  return m ? (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`) : undefined;
};

/** A time with its zone (PostgreSQL reads a zoneless one in its own time zone, unknown here). */
const zonedTime = (time: string): number | undefined =>
  /(Z|[+-]\d\d(:?\d\d)?)$/i.test(time.trim()) ? Date.parse(time.trim()) || undefined : undefined;

/**
 * Why recovery from the backup cannot reach the target, or undefined when it can or when that
 * cannot be told before replaying (a transaction id, a restore point, a time without a zone).
 */
export function beforeConsistency(target: RecoveryTarget, backup: ConsistencyPoint): string | undefined {
  if (target.time !== undefined) {
    const at = zonedTime(target.time);
    if (at !== undefined && at < Date.parse(backup.finishedAt)) {
      return `target time ${target.time} is before backup ${backup.label} ended (${backup.finishedAt})`;
    }
  }
  if (target.lsn !== undefined) {
    const at = lsnValue(target.lsn);
    const stop = lsnValue(backup.stopLsn);
    if (at !== undefined && stop !== undefined && at < stop) {
      return `target LSN ${target.lsn} is before backup ${backup.label}'s consistency point (stop LSN ${backup.stopLsn})`;
    }
  }
  return undefined;
}

/**
 * The backup a recovery to the target starts from: the named one, else the newest that can reach
 * the target. A target before it (or before every backup) is bad input, refused before anything starts.
 */
export function backupForTarget<B extends ConsistencyPoint>(
  newestFirst: B[],
  target: RecoveryTarget,
  label: string | undefined,
  stepId: string,
): B | undefined {
  const named = label === undefined ? undefined : newestFirst.find((b) => b.label === label);
  const candidates = named ? [named] : label === undefined ? newestFirst : [];
  const reachable = candidates.find((b) => !beforeConsistency(target, b));
  const oldest = candidates.at(-1);
  if (!reachable && oldest) {
    const why = beforeConsistency(target, oldest)!;
    throw new UserError(
      `step ${stepId}: ${why}${named ? '' : `, the oldest of ${candidates.length} backup(s)`}: recovery cannot stop there; choose a later target${named ? ' or an older backup' : ''}`,
    );
  }
  return reachable;
}
