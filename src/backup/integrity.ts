// Proving backup files are whole. PostgreSQL 15's pg_verifybackup reads plain-format backups only,
// so a tar backup is extracted first (base.tar.gz, then pg_wal.tar.gz into pg_wal/) and the
// directory is checked against backup_manifest: every file's size and checksum, and the WAL from
// the start to the stop LSN. A dump is read through in full by pg_restore (to /dev/null).
import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { StepFailure, errorMessage } from '../errors.js';
import { run } from '../system/exec.js';
import type { BackupFile } from './catalog.js';
import { sha256File } from './files.js';
import type { PgTools } from './tools.js';

export const BASE_TAR = 'base.tar.gz';
export const WAL_TAR = 'pg_wal.tar.gz';
export const MANIFEST = 'backup_manifest';

/** Unpacks base.tar.gz from filesDir into dataDir (which must not exist yet); verifyBaseBackup adds the WAL. */
export async function extractBaseBackup(
  filesDir: string,
  dataDir: string,
  signal: AbortSignal,
): Promise<void> {
  await mkdir(dataDir, { mode: 0o700 });
  await untar(filesDir, BASE_TAR, dataDir, signal);
}

/**
 * Extracts the WAL archive into an extracted base backup and checks it all with pg_verifybackup,
 * as two runs side by side that together make exactly the checks of one plain run: one checks
 * every file's size and checksum (--no-parse-wal), the other every file's presence and size and
 * parses the WAL (--skip-checksums). The checksum run, the long one, needs no WAL (pg_verifybackup
 * never looks into pg_wal/ for files), so it starts at once, while the WAL is still being extracted.
 */
export async function verifyBaseBackup(
  tools: PgTools,
  filesDir: string,
  dataDir: string,
  signal: AbortSignal,
  o: { walExtracted?: boolean } = {},
): Promise<void> {
  const verify = (option: string) =>
    tools.run('pg_verifybackup', ['--quiet', option, '-m', join(filesDir, MANIFEST), dataDir], {
      what: 'pg_verifybackup',
    });
  const checksums = verify('--no-parse-wal');
  const wal = (async () => {
    if (!o.walExtracted) await extractWal(filesDir, dataDir, signal);
    await verify('--skip-checksums');
  })();
  const outcome = await Promise.allSettled([checksums, wal]);
  const failed = outcome.find((o) => o.status === 'rejected');
  if (failed) throw failed.reason;
}

async function extractWal(filesDir: string, dataDir: string, signal: AbortSignal): Promise<void> {
  // With -X fetch the WAL is inside base.tar; with -X stream it comes in its own archive.
  if (existsSync(join(filesDir, WAL_TAR))) await untar(filesDir, WAL_TAR, join(dataDir, 'pg_wal'), signal);
}

/** Extracts `name` (a .tar.gz, or a plain .tar) from `filesDir` into `into`; one-line failures. */
export async function untar(
  filesDir: string,
  name: string,
  into: string,
  signal: AbortSignal,
): Promise<void> {
  try {
    await run('tar', [name.endsWith('.gz') ? '-xzf' : '-xf', join(filesDir, name), '-C', into], { signal });
  } catch (err) {
    throw new StepFailure(`cannot extract ${name}: ${errorMessage(err).split('\n').slice(1).join(' / ')}`);
  }
}

/** Reads every dump through pg_restore, which fails on damaged data. */
export async function verifyDumps(tools: PgTools, filesDir: string): Promise<void> {
  for (const name of (await readdir(filesDir)).filter((x) => x.endsWith('.dump')).sort()) {
    await tools.run('pg_restore', ['-f', '/dev/null', join(filesDir, name)], {
      what: `pg_restore of ${name}`,
    });
  }
}

/** Each downloaded file against the SHA-256 the catalog recorded at backup time. */
export async function checkFiles(
  filesDir: string,
  files: readonly BackupFile[],
  label: string,
): Promise<void> {
  for (const f of files) {
    const actual = await sha256File(join(filesDir, f.name));
    if (actual !== f.sha256) {
      throw new StepFailure(
        `backup ${label}: ${f.name} is damaged: SHA-256 ${actual}, the catalog recorded ${f.sha256} at backup time`,
      );
    }
  }
}
