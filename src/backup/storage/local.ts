// A local directory as a backup store. Uploads go to a temporary name and are renamed into place.
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StepFailure, errorMessage } from '../../errors.js';
import type { Storage } from './storage.js';

export function localStorage(root: string, location: string): Storage {
  const path = (key: string) => join(root, key);
  const failing =
    (what: string) =>
    (err: unknown): never => {
      throw new StepFailure(`backup store ${location}: ${what}: ${errorMessage(err)}`, undefined, false, {
        cause: err,
      });
    };
  return {
    location,
    async put(localFile, key) {
      const dest = path(key);
      await mkdir(dirname(dest), { recursive: true }).catch(failing(`cannot create ${dirname(dest)}`));
      await copyFile(localFile, `${dest}.partial`).catch(failing(`cannot write ${dest}`));
      await rename(`${dest}.partial`, dest).catch(failing(`cannot rename into ${dest}`));
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
      await mkdir(dirname(dest), { recursive: true }).catch(failing(`cannot create ${dirname(dest)}`));
      await writeFile(`${dest}.tmp`, text).catch(failing(`cannot write ${dest}`));
      await rename(`${dest}.tmp`, dest).catch(failing(`cannot rename into ${dest}`));
    },
    async removeBackup(label) {
      await rm(path(label), { recursive: true, force: true }).catch(failing(`cannot remove ${label}`));
    },
    close: async () => undefined,
  };
}
