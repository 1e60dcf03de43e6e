// Where the lab lives when PostgreSQL's user cannot reach the chosen directory. As root, PostgreSQL
// and the SSH logins run as an unprivileged user that must traverse every parent of the lab
// directory; a checkout under /root or a private temp directory does not allow that. Rather than
// loosen the user's directories, the lab then lives under /var/tmp and the chosen path becomes a
// symlink to it, so every command given that path still finds it.
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DEFAULT_LAB_DIR } from './config.js';
import { run } from '../system/exec.js';
import { isRoot, type OsUser } from '../system/os-user.js';

const PLACEMENT_ROOT = '/var/tmp';

export interface Placement {
  /** The lab directory to use: the chosen one, or a reachable place to be linked from it. */
  dir: string;
  /** Creates the place and the link; called only once every check passed, so a failed up leaves nothing. */
  apply(): void;
}

/** Where `lab up` should put the lab chosen at `dir`. */
export async function placeLabDir(dir: string, user: OsUser): Promise<Placement> {
  if (!isRoot() || existsSync(dir) || (await reachable(dirname(dir), user)))
    return { dir, apply: () => undefined };
  const place = join(
    PLACEMENT_ROOT,
    `drillbook-lab-${createHash('sha256').update(dir).digest('hex').slice(0, 12)}`,
  );
  return {
    dir: place,
    apply() {
      mkdirSync(place, { recursive: true, mode: 0o755 });
      mkdirSync(dirname(dir), { recursive: true });
      symlinkSync(place, dir);
    },
  };
}

/** After `lab down` removed a placed lab, the symlink that pointed at it goes too. */
export function removePlacementLink(dirOption: string | undefined): void {
  const given = resolve(dirOption ?? DEFAULT_LAB_DIR);
  try {
    if (lstatSync(given).isSymbolicLink()) rmSync(given);
  } catch {
    // nothing to remove
  }
}

async function reachable(dir: string, user: OsUser): Promise<boolean> {
  let existing = dir;
  while (!existsSync(existing)) existing = dirname(existing);
  try {
    await run('test', ['-x', existing], { as: user });
    return true;
  } catch {
    return false;
  }
}
