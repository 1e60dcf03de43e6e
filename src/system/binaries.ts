// Finding installed programs, with an error naming the Debian package when one is missing.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { UserError } from '../errors.js';

export const PG_BINARIES = ['initdb', 'pg_ctl', 'pg_basebackup', 'postgres', 'psql'] as const;

/** --pg-bindir, then DRILLBOOK_PG_BINDIR, then `pg_config --bindir`, then the newest /usr/lib/postgresql/N/bin. */
export function findPgBinDir(explicit: string | undefined): string {
  const chosen = explicit ?? process.env.DRILLBOOK_PG_BINDIR;
  if (chosen) {
    const missing = PG_BINARIES.filter((b) => !isExecutable(join(chosen, b)));
    if (missing.length > 0) {
      throw new UserError(
        `PostgreSQL binaries ${missing.join(', ')} not found in ${chosen} (from ${explicit ? '--pg-bindir' : 'DRILLBOOK_PG_BINDIR'}); install the Debian package "postgresql" or point it at the server's bin directory`,
      );
    }
    return chosen;
  }
  const found = [pgConfigBinDir(), ...debianBinDirs()].find(
    (dir) => dir && PG_BINARIES.every((b) => isExecutable(join(dir, b))),
  );
  if (!found) {
    throw new UserError(
      'PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) not found via pg_config or /usr/lib/postgresql/*/bin; install the Debian package "postgresql" (apt-get install -y postgresql) or pass --pg-bindir',
    );
  }
  return found;
}

function pgConfigBinDir(): string | undefined {
  try {
    return execFileSync('pg_config', ['--bindir'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

function debianBinDirs(): string[] {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => join(root, v, 'bin'));
}

/** A program on PATH or in the sbin directories (often missing from a normal user's PATH). */
export function findProgram(name: string, debianPackage: string): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin'];
  const found = dirs
    .filter(Boolean)
    .map((d) => join(d, name))
    .find(isExecutable);
  if (!found) {
    throw new UserError(
      `${name} not found; install the Debian package "${debianPackage}" (apt-get install -y ${debianPackage})`,
    );
  }
  return found;
}

export function requireFile(file: string, debianPackage: string): string {
  if (!existsSync(file)) {
    throw new UserError(`${file} not found; install the Debian package "${debianPackage}"`);
  }
  return file;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
