// Making the newest changes recoverable: a point-in-time recovery can only reach what the archive
// holds, and the WAL segment being written is not archived until it is full or archive_timeout
// passes. Switching segments on the primary and waiting for the archiver closes that gap at once.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from 'pg';
import { pollUntil } from '../connectors/poll.js';
import { StepFailure } from '../errors.js';

/** Switches WAL on the node and waits until its last complete segment is in `archive`; returns it. */
export async function switchAndWaitArchived(
  client: Client,
  archive: string,
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
  const archived = await pollUntil(async () => (existsSync(join(archive, segment)) ? true : undefined), {
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
      `WAL segment ${segment} of ${node} is not in the archive ${archive} after ${timeoutMs / 1000}s` +
        (s?.last ? ` (archive_command failed ${s.failed} time(s), last on ${s.last})` : ''),
    );
  }
  return segment;
}
