// Where everything lives inside the lab directory.
import { join } from 'node:path';

export interface LabPaths {
  dir: string;
  state: string;
  inventory: string;
  secrets: string;
  logs: string;
  postgres: string;
  pgpass: string;
  ssh: string;
  haproxy: string;
  haproxySocket: string;
  powerdns: string;
  slack: string;
  slackMessages: string;
  /** WAL archive (lab up --archive): every archived segment, written by archive_command. */
  archive: string;
  /** The lab's backup store (a local store: catalog.json and one directory per backup). */
  backups: string;
  /** lab up --backup-tool pgbackrest: pgbackrest.conf, the repository (repo/), its logs and locks. */
  pgbackrest: string;
  /** lab up --monitoring: Prometheus's and Alertmanager's configs and data, the exporters' queries. */
  monitoring: string;
  /** The lab serve's state directory (its runs, journals and alerts.jsonl) and its triggers file. */
  serve: string;
  triggers: string;
}

export function labPaths(dir: string): LabPaths {
  return {
    dir,
    state: join(dir, 'state.json'),
    inventory: join(dir, 'inventory.yaml'),
    secrets: join(dir, 'secrets'),
    logs: join(dir, 'logs'),
    postgres: join(dir, 'postgres'),
    pgpass: join(dir, 'postgres', 'pgpass'),
    ssh: join(dir, 'ssh'),
    haproxy: join(dir, 'haproxy'),
    haproxySocket: join(dir, 'haproxy.sock'),
    powerdns: join(dir, 'powerdns'),
    slack: join(dir, 'slack'),
    slackMessages: join(dir, 'slack', 'messages.jsonl'),
    archive: join(dir, 'archive'),
    backups: join(dir, 'backups'),
    pgbackrest: join(dir, 'pgbackrest'),
    monitoring: join(dir, 'monitoring'),
    serve: join(dir, 'serve'),
    triggers: join(dir, 'triggers.yaml'),
  };
}

export interface NodePaths {
  root: string;
  data: string;
  socket: string;
  log: string;
}

export function nodePaths(paths: LabPaths, node: string): NodePaths {
  const root = join(paths.postgres, node);
  return { root, data: join(root, 'data'), socket: join(root, 'socket'), log: join(root, 'postgres.log') };
}
