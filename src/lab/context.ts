// What every component module gets: the lab's shape, paths, tools, secrets and a way to record progress.
import type { LabConfig } from './config.js';
import type { OsUser } from '../system/os-user.js';
import type { LabPaths } from './paths.js';
import type { LabSecrets } from './secrets.js';
import type { ComponentState, LabState } from './state.js';
import type { LabTools } from './tools.js';

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
