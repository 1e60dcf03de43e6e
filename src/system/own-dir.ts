// A directory drillbook writes into (the lab's, the scratch root) must be ours alone: another user
// who pre-created it, or who may write into it, could plant files or links that we, maybe as root,
// then write through, run or delete.
import { lstatSync, statSync } from 'node:fs';

/**
 * Why `dir` is not ours alone, or undefined when it is ours (or does not exist yet). A symbolic link
 * (a lab placed under /var/tmp) counts when we own the link and what it points at.
 */
export function notOwnDir(dir: string): string | undefined {
  const uid = process.getuid?.();
  let link;
  let stat;
  try {
    link = lstatSync(dir);
    stat = statSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return link ? `${dir} is a symbolic link to nothing` : undefined;
  }
  if (link.uid !== uid) return `${dir} is owned by uid ${link.uid}, not by you (uid ${uid})`;
  if (!stat.isDirectory()) return `${dir} exists and is not a directory`;
  if (stat.uid !== uid) return `${dir} is owned by uid ${stat.uid}, not by you (uid ${uid})`;
  if (stat.mode & 0o002)
    return `${dir} is writable by other users (mode ${(stat.mode & 0o7777).toString(8)})`;
  return undefined;
}
