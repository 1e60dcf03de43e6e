// Names read from a backup store (catalog labels, file names) are untrusted: whoever can write the
// bucket or the store directory writes catalog.json, and these names become paths that drillbook
// writes and deletes, as root on a backup host. Each must be one path segment of a fixed pattern,
// and every path built from one is resolved and checked to stay inside its directory.
import { isAbsolute, join, relative, resolve } from 'node:path';
import { StepFailure } from '../errors.js';

/** What newLabel makes: `base-` or `dump-` and a compact UTC timestamp. */
const LABEL = /^(base|dump)-[0-9]{8}T[0-9]{6,9}Z$/;
/**
 * Base backup files (base.tar.gz, pg_wal.tar.gz, backup_manifest) and dumps (`<database>.dump`, a
 * database name may hold almost anything): one segment, no slash, backslash or control character,
 * not starting with a dot (so never `.` or `..`).
 */
// eslint-disable-next-line no-control-regex
const FILE_NAME = /^[^./\\\x00-\x1f][^/\\\x00-\x1f]{0,254}$/;

const describe = (name: unknown) => JSON.stringify(String(name)).slice(0, 80);

export function checkLabel(label: unknown, where: string): string {
  if (typeof label !== 'string' || !LABEL.test(label)) {
    throw new StepFailure(
      `${where}: backup label ${describe(label)} is not a label drillbook makes (base-|dump-<timestamp>); refusing it`,
    );
  }
  return label;
}

export function checkFileName(name: unknown, where: string): string {
  if (typeof name !== 'string' || !FILE_NAME.test(name)) {
    throw new StepFailure(
      `${where}: backup file name ${describe(name)} is not a plain file name; refusing it`,
    );
  }
  return name;
}

/** `dir/key`, after checking that it resolves inside dir (a `..` or an absolute key never does). */
export function inside(dir: string, key: string, where: string): string {
  const path = join(dir, key);
  const rel = relative(resolve(dir), resolve(path));
  if (rel === '' || rel === '..' || rel.startsWith('../') || isAbsolute(rel)) {
    throw new StepFailure(`${where}: ${describe(key)} is not inside ${dir}; refusing it`);
  }
  return path;
}
