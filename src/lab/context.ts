// What every component module gets: the lab's shape, paths, tools, secrets and a way to record progress.
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import type { LabTools } from './binaries.js';
import type { LabConfig } from './config.js';
import { isRoot, type OsUser } from './os-user.js';
import type { LabPaths } from './paths.js';
import type { LabSecrets } from './secrets.js';
import type { ComponentState, LabState } from './state.js';

export interface LabContext {
  config: LabConfig;
  paths: LabPaths;
  tools: LabTools;
  secrets: LabSecrets;
  /** The OS user that runs PostgreSQL and logs in over SSH. */
  serviceUser: OsUser;
  state: LabState;
  /** Records a component's new state in state.json right away. */
  record(name: string, component: ComponentState): void;
  report(line: string): void;
}

/** A directory the service user owns (PostgreSQL data, sockets): chowned when the lab runs as root. */
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
