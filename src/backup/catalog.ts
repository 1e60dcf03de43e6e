// catalog.json beside the backups: what each backup is (label, method, LSNs, files and their
// SHA-256, table checksums at backup time), whether it verified, and its restore tests.
import { StepFailure, errorMessage } from '../errors.js';
import type { Storage } from './storage/storage.js';
import { checkFileName, checkLabel } from './store-names.js';

export const CATALOG_KEY = 'catalog.json';

export interface BackupFile {
  name: string;
  size: number;
  sha256: string;
}

/** Rows and an order-independent checksum of one table, to compare a restored copy with. */
export interface TableSum {
  database: string;
  table: string;
  rows: number;
  checksum: string;
}

export interface RestoreTestRecord {
  at: string;
  ok: boolean;
  timeToUsableMs?: number;
  error?: string;
}

export interface BackupEntry {
  label: string;
  method: 'basebackup' | 'dump';
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  sizeBytes: number;
  startLsn: string;
  stopLsn: string;
  /** PostgreSQL timeline of a base backup (PITR follows it). */
  timeline?: number;
  /** SHA-256 of the file list (`sha256  name` lines, sorted): one value that covers every file. */
  sha256: string;
  files: BackupFile[];
  verified: boolean;
  /** How it was verified: pg_verifybackup (base backups) or a full pg_restore read (dumps). */
  verifiedBy: string;
  source: { node: string; host: string; port: number; serverVersion: string; databases: string[] };
  tables: TableSum[];
  restoreTests?: RestoreTestRecord[];
}

export interface Catalog {
  version: 1;
  backups: BackupEntry[];
}

/**
 * The store's catalog. Its names become paths written and deleted here and on the store, so a
 * catalog with one label or file name that is not a plain name is refused whole, before any use.
 */
export async function readCatalog(storage: Storage): Promise<Catalog> {
  const text = await storage.readText(CATALOG_KEY);
  if (text === undefined) return { version: 1, backups: [] };
  const where = `${storage.location}/${CATALOG_KEY}`;
  let catalog: Catalog;
  try {
    catalog = JSON.parse(text) as Catalog;
    if (catalog?.version !== 1 || !Array.isArray(catalog.backups)) throw new Error('not a version 1 catalog');
    for (const b of catalog.backups) if (!Array.isArray(b?.files)) throw new Error('a backup without files');
  } catch (err) {
    throw new StepFailure(`${where} is not a readable catalog: ${errorMessage(err)}`);
  }
  for (const b of catalog.backups) {
    checkLabel(b.label, where);
    for (const f of b.files) checkFileName(f?.name, where);
  }
  return catalog;
}

export const writeCatalog = (storage: Storage, catalog: Catalog) =>
  storage.writeText(CATALOG_KEY, JSON.stringify(catalog, null, 2) + '\n');

/** Newest first (labels sort by time, but startedAt is the truth). */
export const byNewest = (a: BackupEntry, b: BackupEntry) => b.startedAt.localeCompare(a.startedAt);

export function newestVerified(
  catalog: Catalog,
  accept: (b: BackupEntry) => boolean = () => true,
): BackupEntry | undefined {
  return [...catalog.backups].sort(byNewest).find((b) => b.verified && accept(b));
}

/** The named backup, or the newest verified one (of a method, when given). */
export function chooseBackup(
  catalog: Catalog,
  location: string,
  label: string | undefined,
  method?: BackupEntry['method'],
): BackupEntry {
  if (label) {
    const named = catalog.backups.find((b) => b.label === label);
    if (!named) throw new StepFailure(`no backup labelled ${label} in ${location}/${CATALOG_KEY}`);
    if (method && named.method !== method) {
      throw new StepFailure(`backup ${label} is a ${named.method}, this step needs a ${method}`);
    }
    return named;
  }
  const newest = newestVerified(catalog, (b) => !method || b.method === method);
  if (!newest) {
    const what = method ? `verified ${method}` : 'verified';
    throw new StepFailure(
      `no ${what} backup in ${location}/${CATALOG_KEY} (${catalog.backups.length} entries)`,
    );
  }
  return newest;
}

/** `base-20240115T143000123Z`: sortable, unique per millisecond, safe as a directory or key name. */
export const newLabel = (method: BackupEntry['method'], at: Date) =>
  `${method === 'basebackup' ? 'base' : 'dump'}-${at.toISOString().replace(/[-:.]/g, '')}`;
