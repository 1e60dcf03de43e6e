// Which old backups a retention policy removes. Only backups older than the one just verified are
// candidates, and that one is never among them: nothing is deleted until a newer backup is proven.
import { byNewest, type BackupEntry } from './catalog.js';

export interface RetentionPolicy {
  /** Keep this many verified backups (the newest one included); older or unverified ones go. */
  keep?: number;
  /** Backups older than this go, whatever keep says. */
  maxAgeMs?: number;
}

export function retentionVictims(
  backups: readonly BackupEntry[],
  verified: BackupEntry,
  policy: RetentionPolicy,
  now: number,
): BackupEntry[] {
  const kept = new Set(
    [...backups]
      .sort(byNewest)
      .filter((b) => b.verified)
      .slice(0, policy.keep ?? Infinity)
      .map((b) => b.label),
  );
  return backups.filter(
    (b) =>
      b.label !== verified.label &&
      b.startedAt < verified.startedAt &&
      ((policy.keep !== undefined && !kept.has(b.label)) ||
        (policy.maxAgeMs !== undefined && now - Date.parse(b.startedAt) > policy.maxAgeMs)),
  );
}
