// Storing a made backup: every file hashed again and uploaded under its label.
import { StepFailure } from '../errors.js';
import type { BackupFile } from './catalog.js';
import { describeFiles } from './files.js';
import { putBackup, type Storage } from './storage/storage.js';

/**
 * Hashes every file made (in full, again) and uploads it under `<label>/`. A file read while it was
 * made must hash the same now: then what was extracted and verified is exactly what is stored.
 */
export async function storeFiles(
  storage: Storage,
  filesDir: string,
  label: string,
  seen: Record<string, string>,
): Promise<BackupFile[]> {
  const files = await describeFiles(filesDir);
  for (const f of files) {
    const before = seen[f.name];
    if (before !== undefined && before !== f.sha256) {
      throw new StepFailure(`${f.name} changed after it was extracted (SHA-256 ${before}, now ${f.sha256})`);
    }
  }
  await putBackup(storage, filesDir, label, files);
  return files;
}
