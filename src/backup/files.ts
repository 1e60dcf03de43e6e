// Sizes and SHA-256 of backup files, and the one digest that covers them all.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BackupFile } from './catalog.js';

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** Every regular file directly in dir, with size and SHA-256, sorted by name. */
export async function describeFiles(dir: string): Promise<BackupFile[]> {
  const names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  return Promise.all(
    names.sort().map(async (name) => {
      const file = join(dir, name);
      return { name, size: (await stat(file)).size, sha256: await sha256File(file) };
    }),
  );
}

/** SHA-256 of the `sha256sum` listing of the files: one value that changes when any file does. */
export function digestOfFiles(files: readonly BackupFile[]): string {
  const listing = [...files]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((f) => `${f.sha256}  ${f.name}\n`)
    .join('');
  return createHash('sha256').update(listing).digest('hex');
}
