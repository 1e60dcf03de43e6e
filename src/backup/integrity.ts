// Proving backup files are whole. PostgreSQL 15's pg_verifybackup reads plain-format backups only,
// so a tar backup is extracted first (base.tar.gz, then pg_wal.tar.gz into pg_wal/) and the
// directory is checked against backup_manifest: every file's size and checksum, and the WAL from
// the start to the stop LSN. A dump is read through in full by pg_restore (to /dev/null).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { StepFailure, errorMessage } from '../errors.js';
import { run } from '../lab/exec.js';
import type { BackupFile } from './catalog.js';
import { sha256File } from './files.js';
import type { PgTools } from './tools.js';

export const BASE_TAR = 'base.tar.gz';
export const WAL_TAR = 'pg_wal.tar.gz';
export const MANIFEST = 'backup_manifest';

/** Unpacks a tar base backup from filesDir into dataDir (which must not exist yet). */
export async function extractBaseBackup(
  filesDir: string,
  files: readonly BackupFile[],
  dataDir: string,
  signal: AbortSignal,
): Promise<void> {
  await mkdir(dataDir, { mode: 0o700 });
  const untar = async (name: string, into: string) => {
    try {
      await run('tar', ['-xzf', join(filesDir, name), '-C', into], { signal });
    } catch (err) {
      throw new StepFailure(`cannot extract ${name}: ${errorMessage(err).split('\n').slice(1).join(' / ')}`);
    }
  };
  await untar(BASE_TAR, dataDir);
  // With -X fetch the WAL is inside base.tar; with -X stream it comes in its own archive.
  if (files.some((f) => f.name === WAL_TAR)) await untar(WAL_TAR, join(dataDir, 'pg_wal'));
}

/** pg_verifybackup of an extracted base backup against its manifest. */
export async function verifyExtracted(tools: PgTools, filesDir: string, dataDir: string): Promise<void> {
  await tools.run('pg_verifybackup', ['--quiet', '-m', join(filesDir, MANIFEST), dataDir], {
    what: 'pg_verifybackup',
  });
}

/** Reads every dump through pg_restore, which fails on damaged data. */
export async function verifyDumps(
  tools: PgTools,
  filesDir: string,
  files: readonly BackupFile[],
): Promise<void> {
  for (const f of files.filter((x) => x.name.endsWith('.dump'))) {
    await tools.run('pg_restore', ['-f', '/dev/null', join(filesDir, f.name)], {
      what: `pg_restore of ${f.name}`,
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
