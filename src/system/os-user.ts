// Who runs the PostgreSQL servers we start: PostgreSQL refuses root, so a root caller hands them to `postgres`.
import { chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { UserError } from '../errors.js';

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

const SERVICE_USER_WHEN_ROOT = 'postgres';

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** The OS user that owns PostgreSQL and logs in over SSH. */
export function serviceUser(): OsUser {
  if (!isRoot()) {
    const me = userInfo();
    return { name: me.username, uid: me.uid, gid: me.gid, home: me.homedir };
  }
  const user = lookupUser(SERVICE_USER_WHEN_ROOT);
  if (!user) {
    throw new UserError(
      `the lab runs PostgreSQL as user "${SERVICE_USER_WHEN_ROOT}" when started as root, and that user does not exist; install the Debian package "postgresql" (it creates it) or run the lab as a normal user`,
    );
  }
  return user;
}

function lookupUser(name: string): OsUser | undefined {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [user, , uid, gid, , home] = line.split(':');
    if (user === name && uid && gid) return { name, uid: Number(uid), gid: Number(gid), home: home || '/' };
  }
  return undefined;
}

/** A directory the service user owns (PostgreSQL data, sockets): chowned when running as root. */
export function makeServiceDir(dir: string, user: OsUser, mode = 0o700): void {
  mkdirSync(dir, { recursive: true, mode });
  giveTo(dir, user);
}

export function writeServiceFile(file: string, content: string, user: OsUser, mode = 0o600): void {
  writeFileSync(file, content, { mode });
  giveTo(file, user);
}

function giveTo(path: string, user: OsUser): void {
  if (isRoot()) chownSync(path, user.uid, user.gid);
}
