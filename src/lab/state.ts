// state.json: the lab's shape and every process it started, written after each change.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { UserError } from '../errors.js';
import type { LabConfig } from './config.js';
import type { OsUser } from '../system/os-user.js';

export type ComponentKind =
  | 'postgres'
  | 'haproxy'
  | 'sshd'
  | 'powerdns'
  | 'slack'
  | 'etcd'
  | 'patroni'
  | 'postgres-exporter'
  | 'prometheus'
  | 'alertmanager'
  | 'serve';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface ComponentState {
  kind: ComponentKind;
  /** Last PID seen; PostgreSQL's live PID is read from postmaster.pid (pg_ctl may restart it). */
  pid?: number;
  listen: ListenAddress[];
  /** Set once the component was fully built, so a crash halfway is told apart from a stopped server. */
  created: boolean;
}

export interface LabState {
  version: 1;
  dir: string;
  config: LabConfig;
  serviceUser: OsUser;
  pgBinDir: string;
  components: Record<string, ComponentState>;
}

export function readState(file: string): LabState | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as LabState;
    if (state.version !== 1) throw new Error(`unknown version ${String(state.version)}`);
    return withShapeDefaults(state);
  } catch (err) {
    throw new UserError(
      `${file} is not a readable lab state (${err instanceof Error ? err.message : String(err)}); stop the lab's processes listed in its logs and remove the directory`,
    );
  }
}

/** Atomic: a crash leaves the previous state or the new one, never half a file. */
export function writeState(file: string, state: LabState): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
}

/**
 * A lab made before topologies and sync modes: `sync` was a boolean (quorum of one) and every
 * replica streamed from pg1. Read as that shape, so such a lab still comes up and goes down.
 */
function withShapeDefaults(state: LabState): LabState {
  const config = state.config as LabConfig & { sync: LabConfig['sync'] | boolean };
  if (typeof config.sync === 'boolean') {
    config.sync = config.sync ? { mode: 'quorum', count: 1 } : { mode: 'async', count: 0 };
  }
  const [primary, ...replicas] = config.nodes;
  config.upstreams ??= Object.fromEntries(replicas.map((r) => [r.name, primary!.name]));
  return state;
}
