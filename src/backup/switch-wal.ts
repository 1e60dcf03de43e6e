// Making the newest changes recoverable: a point-in-time recovery can only reach what the archive
// holds, and the WAL segment being written is not archived until it is full or archive_timeout
// passes. Switching segments on the primary and waiting for the archiver closes that gap at once.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from 'pg';
import { pollUntil } from '../connectors/poll.js';
import { StepFailure } from '../errors.js';

/**
 * Switches WAL on the node and waits until its last complete segment is archived: present in
 * `archive`, or, for an archive that is not a directory here (pgBackRest's repository), reported
 * archived by the node's archiver (archive-push only succeeds once the repository has it).
 */
export async function switchAndWaitArchived(
  client: Client,
  archive: string | undefined,
  node: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<string> {
  // After a switch the returned LSN ends the closed segment; with no WAL since the last switch it is
  // the start of the current one. Either way pg_walfile_name gives the last complete segment.
  const { rows } = await client.query<{ segment: string }>(
    'SELECT pg_walfile_name(pg_switch_wal()) AS segment',
  );
  const segment = rows[0]!.segment;
  const inArchive = async () => {
    if (archive !== undefined) return existsSync(join(archive, segment));
    const { rows: last } = await client.query<{ wal: string | null }>(
      'SELECT last_archived_wal AS wal FROM pg_stat_archiver',
    );
    // Same timeline, so the names sort as the segments do; a later segment means this one went first.
    return (last[0]?.wal ?? '') >= segment;
  };
  const archived = await pollUntil(async () => ((await inArchive()) ? true : undefined), {
    timeoutMs,
    intervalMs: 100,
    signal,
  });
  if (!archived) {
    const stats = await client.query<{ failed: string; last: string | null }>(
      'SELECT failed_count::text AS failed, last_failed_wal AS last FROM pg_stat_archiver',
    );
    const s = stats.rows[0];
    throw new StepFailure(
      `WAL segment ${segment} of ${node} is not archived${archive ? ` in ${archive}` : ''} after ${timeoutMs / 1000}s` +
        (s?.last ? ` (archive_command failed ${s.failed} time(s), last on ${s.last})` : ''),
    );
  }
  return segment;
}
