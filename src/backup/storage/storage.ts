// A backup store: files under keys (`<label>/<file>`, `catalog.json`). The catalog is written last
// and atomically, so it is the commit point: a backup not in the catalog does not exist, and a crash
// midway leaves files that the next retention pass or an operator may remove. A backup whose files
// cannot all be stored (a full disk, a lost connection) takes the ones it stored away again.
import { join } from 'node:path';
import type { BackupContext } from '../context.js';
import { checkLabel } from '../store-names.js';
import { checkStorageSpec, describeStorage, type StorageSpec } from './spec.js';

export interface Storage {
  /** Where it is, for messages and outputs (a path, host:path or s3://bucket/prefix). */
  location: string;
  /** Uploads a local file; `sha256` (hex) lets targets that check integrity on arrival do so. */
  put(localFile: string, key: string, sha256: string): Promise<void>;
  /** Downloads key into localFile. */
  get(key: string, localFile: string): Promise<void>;
  /** A small text object, or undefined when it does not exist. */
  readText(key: string): Promise<string | undefined>;
  /** Replaces a small text object atomically (readers see the old or the new one). */
  writeText(key: string, text: string): Promise<void>;
  /**
   * Proves the store takes writes (a backup calls it before the work): creates the directory and
   * a probe file (an S3 object), then removes it.
   */
  probeWrite(): Promise<void>;
  /** Removes every object under `<label>/`. */
  removeBackup(label: string): Promise<void>;
  close(): Promise<void>;
}

export type StorageContext = Pick<BackupContext, 'env' | 'signal' | 'secret' | 'stepId'>;

/** Opens the store a spec names; the clients load only now (validate never loads them). */
export async function openStorage(ctx: StorageContext, spec: StorageSpec): Promise<Storage> {
  checkStorageSpec(spec, ctx.stepId);
  const location = describeStorage(spec);
  const storage = await open(ctx, spec, location);
  // A recursive delete takes only a label drillbook makes: never `..`, an absolute path or '' (the whole store).
  const removeBackup = storage.removeBackup.bind(storage);
  storage.removeBackup = async (label) => removeBackup(checkLabel(label, `backup store ${location}`));
  return storage;
}

async function open(ctx: StorageContext, spec: StorageSpec, location: string): Promise<Storage> {
  switch (spec.type) {
    case 'local':
      return (await import('./local.js')).localStorage(spec.path!, location);
    case 'ssh':
      return (await import('./ssh.js')).sshStorage(ctx, spec.host!, spec.path!, location);
    case 's3':
      return (await import('./s3.js')).s3Storage(ctx, spec, location);
  }
}

/**
 * Stores the files of a new backup under `<label>/`; when one fails, the ones stored are removed
 * (best effort: the store may be what failed) and the failure goes on, naming the store and cause.
 */
export async function putBackup(
  storage: Storage,
  dir: string,
  label: string,
  files: readonly { name: string; sha256: string }[],
): Promise<void> {
  try {
    for (const f of files) await storage.put(join(dir, f.name), `${label}/${f.name}`, f.sha256);
  } catch (err) {
    await storage.removeBackup(label).catch(() => undefined);
    throw err;
  }
}
