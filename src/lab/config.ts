import { lstatSync, realpathSync } from 'node:fs';
// The lab's shape: node names, loopback addresses and ports, from options over defaults.
import { isIPv4 } from 'node:net';
import { resolve } from 'node:path';
import { parseDuration } from '../duration.js';
import { UserError } from '../errors.js';
import {
  patroniConfigAsOptions,
  patroniNodePorts,
  resolvePatroniConfig,
  type PatroniLabConfig,
  type PatroniLabOptions,
} from './patroni-options.js';
import { formatTopology, parseSyncMode, parseTopology, type SyncRule, type Upstreams } from './topology.js';

/** What `lab up` accepts; every field is optional and defaults below. */
export interface LabUpOptions extends PatroniLabOptions {
  dir?: string;
  replicas?: number;
  /** An alias of syncMode 'quorum' (what it meant before there were modes). */
  sync?: boolean;
  /** async | quorum | first | all, or quorum:N / first:N (see parseSyncMode). */
  syncMode?: string;
  /** star | cascade | links such as pg1>pg2,pg2>pg3 (see parseTopology). */
  topology?: string;
  /** Node i (1-based) listens on this address + i: 127.0.0.10 gives pg1 = 127.0.0.11. */
  baseAddress?: string;
  pgPort?: number;
  sshPort?: number;
  routerPort?: number;
  dnsPort?: number;
  dnsApiPort?: number;
  slackPort?: number;
  /** PostgreSQL server binaries; found automatically when absent. */
  pgBinDir?: string;
  /** WAL archiving into <lab>/archive (point-in-time recovery needs it). */
  archive?: boolean;
  /** archive_timeout with --archive: a duration such as 10s (default 60s). */
  archiveTimeout?: string;
  /** With --archive: who archives and backs up, drillbook's own format (native) or a pgBackRest stanza. */
  backupTool?: BackupTool;
  /** Prometheus, a PostgreSQL exporter per node, Alertmanager and a `drillbook serve` for the lab. */
  monitoring?: boolean;
}

export const BACKUP_TOOLS = ['native', 'pgbackrest'] as const;
export type BackupTool = (typeof BACKUP_TOOLS)[number];

export interface LabNode {
  name: string;
  host: string;
  port: number;
}

/** The resolved shape, stored in state.json so later commands reuse it. */
export interface LabConfig {
  replicas: number;
  /** What the primary's commits wait for. */
  sync: SyncRule;
  /** Each replica's upstream in the built tree. */
  upstreams: Upstreams;
  baseAddress: string;
  /** Where HAProxy, PowerDNS and the Slack endpoint listen. */
  serviceHost: string;
  nodes: LabNode[];
  sshPort: number;
  routerPort: number;
  dnsPort: number;
  dnsApiPort: number;
  slackPort: number;
  /** Set with --archive; absent in labs made without it (and in states written before it existed). */
  archive?: { timeoutS: number; tool?: 'pgbackrest' };
  /** Set with --ha patroni: Patroni and etcd run the cluster, not drillbook. */
  patroni?: PatroniLabConfig;
  /** Set with --monitoring. */
  monitoring?: MonitoringConfig;
}

/**
 * The monitoring's ports: Prometheus, Alertmanager and the lab's serve on the service host, an
 * exporter on each node address. They follow the PostgreSQL port (+6 .. +9), so labs that differ
 * in ports (the test slots) never share one, and Debian's defaults (9090, 9093, 9187) stay free.
 */
export interface MonitoringConfig {
  prometheusPort: number;
  alertmanagerPort: number;
  servePort: number;
  exporterPort: number;
}

export function monitoringConfig(pgPort: number): MonitoringConfig {
  return {
    prometheusPort: port(pgPort + 6, 'Prometheus (--pg-port + 6)'),
    alertmanagerPort: port(pgPort + 7, 'Alertmanager (--pg-port + 7)'),
    servePort: port(pgPort + 8, "the lab's serve (--pg-port + 8)"),
    exporterPort: port(pgPort + 9, 'the exporters (--pg-port + 9)'),
  };
}

export const DEFAULT_LAB_DIR = '.drillbook/lab';
export const LAB_ZONE = 'lab.drillbook.test.';
export const LAB_RECORD = `db.${LAB_ZONE}`;
export const LAB_DATABASE = 'drillbook';
export const LAB_USER = 'drillbook';
export const LAB_REPLICATION_USER = 'replicator';
export const LAB_SLACK_CHANNEL = '#drills';
/** The Slack user id the lab's inventory allows to answer approvals by button. */
export const LAB_SLACK_APPROVER = 'U0LABOPS01';
export const LAB_RECORD_TTL = 5;

const DEFAULTS = {
  replicas: 2,
  baseAddress: '127.0.0.10',
  pgPort: 5432,
  sshPort: 2222,
  routerPort: 6432,
  dnsPort: 5353,
  dnsApiPort: 8081,
  slackPort: 3999,
} as const;

const MAX_REPLICAS = 8;
const DEFAULT_ARCHIVE_TIMEOUT = '60s';

/**
 * The lab directory. When `lab up` had to place the lab where PostgreSQL's user can reach it (see
 * placeLabDir), the given path is a symlink to that place, and the place is the lab directory.
 */
export function labDir(dir: string | undefined): string {
  const given = resolve(dir ?? DEFAULT_LAB_DIR);
  try {
    return lstatSync(given).isSymbolicLink() ? realpathSync(given) : given;
  } catch {
    return given;
  }
}

export function resolveLabConfig(options: LabUpOptions): LabConfig {
  const replicas = options.replicas ?? DEFAULTS.replicas;
  if (!Number.isInteger(replicas) || replicas < 0 || replicas > MAX_REPLICAS) {
    throw new UserError(`--replicas must be a whole number from 0 to ${MAX_REPLICAS}, got ${replicas}`);
  }
  const baseAddress = options.baseAddress ?? DEFAULTS.baseAddress;
  const octets = baseAddress.split('.').map(Number);
  const last = octets[3] ?? 0;
  if (!isIPv4(baseAddress) || octets[0] !== 127 || last + replicas + 1 > 254) {
    throw new UserError(
      `--base-address must be a loopback IPv4 address (127.x.y.z) with room for ${replicas + 1} nodes after it, got ${baseAddress}`,
    );
  }
  if (options.archiveTimeout !== undefined && !options.archive) {
    throw new UserError('--archive-timeout needs --archive');
  }
  const tool = options.backupTool ?? 'native';
  if (!BACKUP_TOOLS.includes(tool)) {
    throw new UserError(`--backup-tool must be one of ${BACKUP_TOOLS.join(', ')}, got ${String(tool)}`);
  }
  if (tool !== 'native' && !options.archive) throw new UserError(`--backup-tool ${tool} needs --archive`);
  const pgPort = port(options.pgPort ?? DEFAULTS.pgPort, '--pg-port');
  const nodes = Array.from({ length: replicas + 1 }, (_, i) => ({
    name: `pg${i + 1}`,
    host: [...octets.slice(0, 3), last + i + 1].join('.'),
    port: pgPort,
  }));
  const names = nodes.map((n) => n.name);
  const upstreams = parseTopology(options.topology, names);
  if (options.sync && options.syncMode !== undefined && !/^quorum(:|$)/.test(options.syncMode)) {
    throw new UserError(`--sync is --sync-mode quorum; it cannot go with --sync-mode ${options.syncMode}`);
  }
  const syncMode = options.syncMode ?? (options.sync ? 'quorum' : 'async');
  const config: LabConfig = {
    replicas,
    sync: parseSyncMode(syncMode, upstreams, names[0]!),
    upstreams,
    baseAddress,
    serviceHost: '127.0.0.1',
    nodes,
    sshPort: port(options.sshPort ?? DEFAULTS.sshPort, '--ssh-port'),
    routerPort: port(options.routerPort ?? DEFAULTS.routerPort, '--router-port'),
    dnsPort: port(options.dnsPort ?? DEFAULTS.dnsPort, '--dns-port'),
    dnsApiPort: port(options.dnsApiPort ?? DEFAULTS.dnsApiPort, '--dns-api-port'),
    slackPort: port(options.slackPort ?? DEFAULTS.slackPort, '--slack-port'),
    ...(options.archive && {
      archive: {
        timeoutS: archiveTimeoutS(options.archiveTimeout),
        // Absent for native: labs made before pgBackRest existed keep their recorded shape.
        ...(tool === 'pgbackrest' && { tool }),
      },
    }),
  };
  const patroni = resolvePatroniConfig(options, baseAddress);
  if (patroni) config.patroni = patroni;
  if (options.monitoring && patroni)
    // The lab's triggers start drillbook's failover on PostgresPrimaryDown; Patroni fails over itself.
    throw new UserError(
      '--monitoring cannot go with --ha patroni: its alerts start drillbook’s own failover',
    );
  if (options.monitoring) config.monitoring = monitoringConfig(pgPort);
  assertDistinctServicePorts(config);
  assertDistinctNodePorts(config);
  return config;
}

/** An existing lab keeps its shape; an option that asks for another one is an error, not a rebuild. */
export function assertSameShape(existing: LabConfig, options: LabUpOptions, dir: string): void {
  const given = definedOnly(options);
  const made = configAsOptions(existing);
  // --sync given again means quorum, as the made syncMode says in its own words.
  if (given.sync !== undefined) delete made.syncMode;
  const asked = resolveLabConfig({ ...made, ...given });
  for (const key of Object.keys(asked) as (keyof LabConfig)[]) {
    if (JSON.stringify(asked[key]) !== JSON.stringify(existing[key])) {
      throw new UserError(
        `the lab at ${dir} was made with ${key}=${JSON.stringify(existing[key])}; it cannot change to ${JSON.stringify(asked[key])} in place: run drillbook lab down --dir ${dir} first`,
      );
    }
  }
}

function configAsOptions(c: LabConfig): LabUpOptions {
  return {
    replicas: c.replicas,
    syncMode:
      c.sync.mode === 'async' || c.sync.mode === 'all' ? c.sync.mode : `${c.sync.mode}:${c.sync.count}`,
    topology: formatTopology(c.upstreams) || undefined,
    baseAddress: c.baseAddress,
    pgPort: c.nodes[0]?.port,
    sshPort: c.sshPort,
    routerPort: c.routerPort,
    dnsPort: c.dnsPort,
    dnsApiPort: c.dnsApiPort,
    slackPort: c.slackPort,
    archive: c.archive !== undefined,
    archiveTimeout: c.archive ? `${c.archive.timeoutS}s` : undefined,
    ...patroniConfigAsOptions(c.patroni),
    backupTool: c.archive?.tool,
    monitoring: c.monitoring !== undefined,
  };
}

function definedOnly(options: LabUpOptions): LabUpOptions {
  return Object.fromEntries(
    Object.entries(options).filter(([k, v]) => v !== undefined && k !== 'dir' && k !== 'pgBinDir'),
  );
}

/** Whole seconds: PostgreSQL's archive_timeout has a resolution of one second. */
function archiveTimeoutS(text: string | undefined): number {
  const ms = parseDuration(text ?? DEFAULT_ARCHIVE_TIMEOUT);
  if (ms === undefined || ms < 1000 || ms % 1000 !== 0) {
    throw new UserError(
      `--archive-timeout must be a whole number of seconds, at least 1s (e.g. 10s, 1m), got ${text}`,
    );
  }
  return ms / 1000;
}

function port(value: number, flag: string): number {
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new UserError(`${flag} must be a port number from 1 to 65535, got ${value}`);
  }
  return value;
}

function assertDistinctServicePorts(c: LabConfig): void {
  const used = new Map<number, string>();
  const services: [string, number][] = [
    ['--router-port', c.routerPort],
    ['--dns-port', c.dnsPort],
    ['--dns-api-port', c.dnsApiPort],
    ['--slack-port', c.slackPort],
    ...(c.monitoring
      ? ([
          ['Prometheus (--pg-port + 6)', c.monitoring.prometheusPort],
          ['Alertmanager (--pg-port + 7)', c.monitoring.alertmanagerPort],
          ["the lab's serve (--pg-port + 8)", c.monitoring.servePort],
        ] as [string, number][])
      : []),
  ];
  for (const [flag, p] of services) {
    const other = used.get(p);
    if (other) throw new UserError(`${flag} and ${other} both ask for port ${p} on ${c.serviceHost}`);
    used.set(p, flag);
  }
}

/** Everything that listens on the node addresses needs its own port there. */
function assertDistinctNodePorts(c: LabConfig): void {
  const used = new Map<number, string>();
  const ports: [string, number][] = [
    ['--pg-port', c.nodes[0]?.port ?? 0],
    ['--ssh-port', c.sshPort],
    ...patroniNodePorts(c.patroni),
    ...(c.monitoring
      ? ([['the exporters (--pg-port + 9)', c.monitoring.exporterPort]] as [string, number][])
      : []),
  ];
  for (const [flag, p] of ports) {
    const other = used.get(p);
    if (other) throw new UserError(`${flag} and ${other} both ask for port ${p} on the node addresses`);
    used.set(p, flag);
  }
}
