// The archiving check of `verify`: WAL archiving on a node keeps up. pg_stat_archiver must show the
// last success after the last failure; a failing archive_command (a full archive disk, a lost
// mount) quietly ends what PITR can reach, long before anyone restores, so a runbook stops on it.
import { connectNode } from '../connectors/postgres.js';
import { formatDuration } from '../duration.js';
import { StepFailure } from '../errors.js';
import { resolveNode } from '../schema/inventory.js';
import type { BackupContext } from './context.js';

export interface ArchivingInput {
  target?: string;
}

interface ArchiverRow {
  mode: string;
  archived_count: string;
  last_archived_wal: string | null;
  last_archived_time: Date | null;
  failed_count: string;
  last_failed_wal: string | null;
  last_failed_time: Date | null;
  now: Date;
}

export async function checkArchiving(ctx: BackupContext, input: ArchivingInput) {
  const node = resolveNode(ctx.env, input.target ?? 'primary');
  const client = await connectNode(ctx.env, node, { signal: ctx.signal, secret: ctx.secret });
  let row: ArchiverRow;
  try {
    const r = await client.query<ArchiverRow>(
      `SELECT current_setting('archive_mode') AS mode, archived_count, last_archived_wal, last_archived_time,
              failed_count, last_failed_wal, last_failed_time, now() AS now
         FROM pg_stat_archiver`,
    );
    row = r.rows[0]!;
  } finally {
    await client.end().catch(() => undefined);
  }
  if (row.mode === 'off') throw new StepFailure(`${node}: WAL archiving is off (archive_mode = off)`);
  const at = (d: Date) => `${d.toISOString()} (${formatDuration(row.now.getTime() - d.getTime())} ago)`;
  const archived = row.last_archived_time
    ? `last archived ${row.last_archived_wal} at ${at(row.last_archived_time)}`
    : 'nothing archived since the statistics were reset';
  const outputs = {
    node,
    archivedCount: Number(row.archived_count),
    lastArchivedWal: row.last_archived_wal ?? '',
    lastArchivedTime: row.last_archived_time?.toISOString() ?? '',
    failedCount: Number(row.failed_count),
    lastFailedWal: row.last_failed_wal ?? '',
    lastFailedTime: row.last_failed_time?.toISOString() ?? '',
  };
  const failing =
    row.last_failed_time !== null &&
    (row.last_archived_time === null || row.last_failed_time >= row.last_archived_time);
  if (failing) {
    throw new StepFailure(
      `${node}: WAL archiving is failing: segment ${row.last_failed_wal} could not be archived, last tried at ${at(row.last_failed_time!)}; ${archived}; ${row.failed_count} failed attempts in all`,
      { retryable: true },
    );
  }
  ctx.log(`${node}: WAL archiving keeps up: ${archived}, ${row.failed_count} failed attempts in all`);
  return outputs;
}
