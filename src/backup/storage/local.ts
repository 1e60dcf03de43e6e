// A local directory as a backup store. Uploads go to a temporary name and are renamed into place;
// one that fails (a full disk, say) removes its temporary file.
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StepFailure, errorMessage } from '../../errors.js';
import { inside } from '../store-names.js';
import type { Storage } from './storage.js';

/** `ENOSPC: no space left on device`: Node's message without the paths it repeats after the comma. */
export function fsCause(err: unknown): string {
  const message = errorMessage(err);
  const code = (err as NodeJS.ErrnoException).code;
  return code && message.startsWith(`${code}: `) ? message.split(', ')[0]! : message;
}

/** mkdir -p that tells the real cause: a recursive mkdir says ENOENT on a read-only file system. */
async function makeDirs(dir: string): Promise<void> {
  try {
    await mkdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT' || dirname(dir) === dir) throw err;
    await makeDirs(dirname(dir));
    await mkdir(dir).catch((again: NodeJS.ErrnoException) => {
      if (again.code !== 'EEXIST') throw again;
    });
  }
}

export function localStorage(root: string, location: string): Storage {
  const path = (key: string) => inside(root, key, `backup store ${location}`);
  const failing =
    (what: string) =>
    (err: unknown): never => {
      throw new StepFailure(`backup store ${location}: ${what}: ${fsCause(err)}`, {
        retryable: false,
        cause: err,
      });
    };
  /** Writes through a temporary file that a failure removes, then renames it into place. */
  const replace = async (dest: string, temporary: string, write: () => Promise<void>) => {
    await makeDirs(dirname(dest)).catch(failing(`cannot create ${dirname(dest)}`));
    try {
      await write();
    } catch (err) {
      await rm(temporary, { force: true }).catch(() => undefined);
      failing(`cannot write ${dest}`)(err);
    }
    await rename(temporary, dest).catch(failing(`cannot rename into ${dest}`));
  };
  return {
    location,
    async put(localFile, key) {
      const dest = path(key);
      await replace(dest, `${dest}.partial`, () => copyFile(localFile, `${dest}.partial`));
    },
    async get(key, localFile) {
      await copyFile(path(key), localFile).catch(failing(`cannot read ${path(key)}`));
    },
    async readText(key) {
      try {
        return await readFile(path(key), 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        return failing(`cannot read ${path(key)}`)(err);
      }
    },
    async writeText(key, text) {
      const dest = path(key);
      await replace(dest, `${dest}.tmp`, () => writeFile(`${dest}.tmp`, text));
    },
    async probeWrite() {
      const probe = path(`.drillbook-probe-${process.pid}`);
      await makeDirs(root).catch(failing(`cannot create ${root}`));
      await writeFile(probe, '').catch(failing(`cannot write into ${root}`));
      await rm(probe, { force: true });
    },
    async removeBackup(label) {
      await rm(path(label), { recursive: true, force: true }).catch(failing(`cannot remove ${label}`));
    },
    close: async () => undefined,
  };
}
