// The backup action with the pgbackrest tool: `pgbackrest backup` of the inventory's stanza, its
// new set read back from the repository (pgBackRest's catalog).
import { StepFailure } from '../errors.js';
import { OneOf } from '../schema/common.js';
import type { BackupContext } from './context.js';
import { pgbackrest, readRepository, repositoryOf } from './pgbackrest.js';

export const BackupType = OneOf(['full', 'diff', 'incr'], {
  default: 'full',
  description: 'pgbackrest: the backup type',
});
type BackupType = (typeof BackupType)['static'];

export function describeRepositoryBackup(ctx: BackupContext, type: BackupType | undefined): string {
  const repo = repositoryOf(ctx.env, ctx.stepId);
  return `would make a ${type ?? 'full'} pgbackrest backup of stanza ${repo.stanza} (${repo.config})`;
}

/**
 * `pgbackrest backup` of the stanza, then its new set read back from the repository. The stanza
 * is read first: an unknown one fails before the backup, naming the stanzas there are.
 */
export async function backupToRepository(ctx: BackupContext, type: BackupType) {
  const repo = repositoryOf(ctx.env, ctx.stepId);
  const before = await readRepository(repo, ctx.signal);
  const t0 = performance.now();
  await pgbackrest(repo, 'backup', [`--type=${type}`], ctx.signal);
  const makeMs = Math.round(performance.now() - t0);
  const after = await readRepository(repo, ctx.signal);
  const made = after.filter((b) => !before.some((o) => o.label === b.label)).at(-1);
  if (!made)
    throw new StepFailure(`pgbackrest backup of stanza ${repo.stanza} ended without a new backup set`);
  // pgBackRest marks a set whose page checksums did not match: it exists, but is not a good backup.
  if (made.error)
    throw new StepFailure(`pgbackrest backup ${made.label} met checksum errors (pgbackrest info)`);
  const removed = before.filter((o) => !after.some((b) => b.label === o.label)).map((o) => o.label);
  ctx.log(
    `${made.label}: ${type} backup of ${made.sizeBytes} bytes (${made.repoSizeBytes} in the repository) in ${makeMs} ms, stanza ${repo.stanza}${removed.length ? `; expired ${removed.join(', ')}` : ''}`,
  );
  return {
    label: made.label,
    method: 'pgbackrest' as const,
    type: made.type,
    sizeBytes: made.sizeBytes,
    durationMs: Math.round(performance.now() - t0),
    makeMs,
    // pgBackRest checks what it copies while it copies (and that the WAL to consistency is archived).
    verifyMs: 0,
    storeMs: 0,
    startLsn: made.startLsn,
    stopLsn: made.stopLsn,
    location: `pgbackrest:${repo.stanza}/${made.label}`,
    verified: true as const,
    removed,
    tables: [],
  };
}
