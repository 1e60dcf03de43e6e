// `lab up --ha patroni`: Patroni on every node address runs PostgreSQL (as the service user), with
// etcd as its DCS. pg1 bootstraps the cluster alone (initdb via Patroni), the others join by
// basebackup, so a fresh lab starts with pg1 leading, like the plain lab.
import { join } from 'node:path';
import { stringify } from 'yaml';
import { StepFailure } from '../errors.js';
import {
  patroniCluster,
  runningLeader,
  type PatroniApi,
  type PatroniCluster,
} from '../connectors/patroni.js';
import { findProgram } from '../system/binaries.js';
import { makeServiceDir, writeServiceFile } from '../system/os-user.js';
import type { Endpoint } from '../system/ports.js';
import { isLabProcess, logTail, spawnDetached, waitFor } from '../system/processes.js';
import { LAB_REPLICATION_USER, type LabConfig, type LabNode } from './config.js';
import type { LabContext } from './context.js';
import { ensureEtcd, etcdEndpoints, etcdMembers } from './etcd.js';
import type { PatroniLabConfig } from './patroni-options.js';
import { nodePaths, type LabPaths } from './paths.js';
import { hbaConf, postmasterPid, psql, setupSql } from './postgres.js';
import type { ComponentKind } from './state.js';
import type { HaManager } from '../schema/inventory.js';

export const PATRONI_SCOPE = 'drillbook-lab';
export const PATRONI_NAMESPACE = '/drillbook/';
export const PATRONI_REST_USER = 'drillbook';

const LEADER_TIMEOUT_MS = 30_000;
const MEMBERS_TIMEOUT_MS = 30_000;

export const patroniComponent = (node: string) => `patroni-${node}`;

export const patroniRestUrl = (node: LabNode, config: PatroniLabConfig) =>
  `http://${node.host}:${config.restPort}`;

/** The REST API of the lab's cluster, for the lab's own waits and status. */
export function labPatroniApi(config: LabConfig, password?: string): PatroniApi {
  const patroni = config.patroni!;
  return {
    urls: Object.fromEntries(config.nodes.map((n) => [n.name, patroniRestUrl(n, patroni)])),
    ...(password && { auth: { username: PATRONI_REST_USER, password } }),
  };
}

/** etcd, then Patroni on every node; waits until the leader streams to every member (and has a sync standby with --sync). */
export async function ensurePatroniCluster(ctx: LabContext, config: PatroniLabConfig): Promise<void> {
  await ensureEtcd(ctx, config);
  const [first, ...others] = ctx.config.nodes;
  if (!first) return;
  const api = labPatroniApi(ctx.config);
  const fresh = !ctx.state.components[patroniComponent(first.name)]?.created;
  if (fresh) {
    await startPatroni(ctx, config, first);
    await waitForLeader(ctx, api, first.name);
    await psql(ctx, first, setupSql(ctx));
    await Promise.all(others.map((n) => startPatroni(ctx, config, n)));
  } else {
    await Promise.all(ctx.config.nodes.map((n) => startPatroni(ctx, config, n)));
  }
  const cluster = await waitForMembers(ctx, api);
  for (const node of ctx.config.nodes) recordPostgres(ctx, node);
  const leader = runningLeader(cluster);
  ctx.report(
    `patroni: ${leader?.name ?? '(no leader)'} leads ${cluster.members.map((m) => `${m.name} ${m.role}`).join(', ')} (ttl ${config.ttl}, loop_wait ${config.loopWait}, retry_timeout ${config.retryTimeout})`,
  );
}

/** The components a Patroni lab adds, for status and for lab down. */
export function patroniComponents(config: LabConfig): [string, ComponentKind][] {
  if (!config.patroni) return [];
  return [
    ...etcdMembers(config.patroni).map((m): [string, ComponentKind] => [m.name, 'etcd']),
    ...config.nodes.map((n): [string, ComponentKind] => [patroniComponent(n.name), 'patroni']),
  ];
}

/** The ports a Patroni lab needs free before it starts, by component. */
export function patroniEndpoints(config: LabConfig): [string, Endpoint[]][] {
  const patroni = config.patroni;
  if (!patroni) return [];
  return [
    ...etcdMembers(patroni).map((m): [string, Endpoint[]] => [
      m.name,
      [
        { host: m.host, port: patroni.etcdClientPort, purpose: `etcd ${m.name} clients (--etcd-port)` },
        { host: m.host, port: patroni.etcdPeerPort, purpose: `etcd ${m.name} peers (--etcd-port + 1)` },
      ],
    ]),
    ...config.nodes.map((n): [string, Endpoint[]] => [
      patroniComponent(n.name),
      [
        {
          host: n.host,
          port: patroni.restPort,
          purpose: `Patroni REST API of ${n.name} (--patroni-rest-port)`,
        },
      ],
    ]),
  ];
}

/** HAProxy's backend servers: every node, up only while Patroni's /primary answers 200 on it. */
export function patroniHaproxyServers(config: LabConfig): string {
  const patroni = config.patroni!;
  return [
    '  option httpchk OPTIONS /primary',
    '  http-check expect status 200',
    '  default-server on-marked-down shutdown-sessions',
    ...config.nodes.map((n) => `  server ${n.name} ${n.host}:${n.port} check port ${patroni.restPort}`),
  ].join('\n');
}

/** Patroni's view for `lab status`: undefined when no member answers (the error says why). */
export async function patroniStatus(
  config: LabConfig,
): Promise<{ cluster?: PatroniCluster; error?: string } | undefined> {
  if (!config.patroni) return undefined;
  try {
    return { cluster: await patroniCluster(labPatroniApi(config)) };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

async function startPatroni(ctx: LabContext, config: PatroniLabConfig, node: LabNode): Promise<void> {
  const name = patroniComponent(node.name);
  const existing = ctx.state.components[name];
  if (existing && isLabProcess(existing.pid, ctx.paths.dir)) {
    ctx.report(`${name}: already running`);
    return;
  }
  const paths = nodePaths(ctx.paths, node.name);
  makeServiceDir(ctx.paths.postgres, ctx.serviceUser);
  makeServiceDir(paths.root, ctx.serviceUser);
  makeServiceDir(paths.socket, ctx.serviceUser);
  const file = patroniFile(ctx.paths, node.name);
  writeServiceFile(file, stringify(patroniConfig(ctx, config, node)), ctx.serviceUser);
  const log = join(ctx.paths.logs, `${name}.log`);
  const pid = spawnDetached(findProgram('patroni', 'patroni'), [file], { logFile: log, as: ctx.serviceUser });
  ctx.record(name, {
    kind: 'patroni',
    pid,
    listen: [{ host: node.host, port: config.restPort }],
    created: true,
  });
  // Recorded now, so lab down stops a PostgreSQL that outlived a killed Patroni even if lab up fails.
  recordPostgres(ctx, node);
  const answering = async () => {
    if (!isLabProcess(pid, ctx.paths.dir)) return false;
    try {
      const r = await fetch(`${patroniRestUrl(node, config)}/health`, { signal: AbortSignal.timeout(500) });
      await r.body?.cancel();
      return true;
    } catch {
      return false;
    }
  };
  if (!(await waitFor(answering, LEADER_TIMEOUT_MS, 100))) {
    throw new StepFailure(`${name} did not answer on ${node.host}:${config.restPort}:\n${logTail(log)}`, {
      stepId: 'lab',
    });
  }
  ctx.report(
    existing
      ? `${name}: restarted (pid ${pid})`
      : `${name}: REST API ${patroniRestUrl(node, config)}, PostgreSQL ${node.host}:${node.port}`,
  );
}

async function waitForLeader(ctx: LabContext, api: PatroniApi, node: string): Promise<void> {
  const leads = async () => {
    const cluster = await patroniCluster(api).catch(() => undefined);
    return cluster !== undefined && runningLeader(cluster)?.name === node;
  };
  if (!(await waitFor(leads, LEADER_TIMEOUT_MS, 100))) {
    throw new StepFailure(
      `${node} did not bootstrap the Patroni cluster within ${LEADER_TIMEOUT_MS / 1000} s:\n${logTail(join(ctx.paths.logs, `${patroniComponent(node)}.log`))}`,
      { stepId: 'lab' },
    );
  }
}

/** Patroni's synchronous_mode (a named standby, as FIRST n) stands for any mode but async. */
const synchronous = (ctx: LabContext) => ctx.config.sync.mode !== 'async';

/** Every member running, the leader streaming to each replica, and with --sync a synchronous standby. */
async function waitForMembers(ctx: LabContext, api: PatroniApi): Promise<PatroniCluster> {
  const names = ctx.config.nodes.map((n) => n.name);
  let last: PatroniCluster | undefined;
  const settled = async () => {
    last = await patroniCluster(api).catch(() => undefined);
    if (!last) return false;
    const leader = runningLeader(last);
    const running = names.every((n) => last!.members.some((m) => m.name === n && m.state === 'running'));
    if (!leader || !running) return false;
    if (synchronous(ctx) && names.length > 1 && !last.members.some((m) => m.role === 'sync_standby'))
      return false;
    const leaderNode = ctx.config.nodes.find((n) => n.name === leader.name)!;
    const streaming = new Set(
      (
        await psql(
          ctx,
          leaderNode,
          `SELECT application_name FROM pg_stat_replication WHERE state = 'streaming';`,
        )
      ).split('\n'),
    );
    return names.every((n) => n === leader.name || streaming.has(n));
  };
  if (!(await waitFor(settled, MEMBERS_TIMEOUT_MS, 200))) {
    const seen = last?.members.map((m) => `${m.name} ${m.role} ${m.state}`).join(', ') ?? 'no answer';
    throw new StepFailure(
      `the Patroni cluster did not settle within ${MEMBERS_TIMEOUT_MS / 1000} s (${seen}); see ${ctx.paths.logs}/patroni-*.log`,
      { stepId: 'lab' },
    );
  }
  return last!;
}

function recordPostgres(ctx: LabContext, node: LabNode): void {
  ctx.record(node.name, {
    kind: 'postgres',
    pid: postmasterPid(ctx.paths, node.name),
    listen: [{ host: node.host, port: node.port }],
    created: true,
  });
}

const patroniFile = (paths: LabPaths, node: string) => join(nodePaths(paths, node).root, 'patroni.yml');

function patroniConfig(ctx: LabContext, config: PatroniLabConfig, node: LabNode): Record<string, unknown> {
  const paths = nodePaths(ctx.paths, node.name);
  const rest = `${node.host}:${config.restPort}`;
  return {
    scope: PATRONI_SCOPE,
    namespace: PATRONI_NAMESPACE,
    name: node.name,
    restapi: {
      listen: rest,
      connect_address: rest,
      authentication: { username: PATRONI_REST_USER, password: ctx.secrets.patroniRestPassword },
    },
    etcd3: { hosts: etcdEndpoints(config) },
    bootstrap: {
      dcs: {
        ttl: config.ttl,
        loop_wait: config.loopWait,
        retry_timeout: config.retryTimeout,
        maximum_lag_on_failover: 1048576,
        synchronous_mode: synchronous(ctx),
        ...(synchronous(ctx) && { synchronous_node_count: Math.max(1, ctx.config.sync.count) }),
        postgresql: {
          use_pg_rewind: true,
          use_slots: true,
          parameters: {
            wal_level: 'replica',
            wal_log_hints: 'on',
            hot_standby: 'on',
            max_wal_senders: 16,
            max_replication_slots: 16,
            max_connections: 50,
            wal_keep_size: '256MB',
          },
        },
      },
      initdb: [
        { encoding: 'UTF8' },
        'no-locale',
        'no-sync',
        { 'auth-local': 'peer' },
        { 'auth-host': 'scram-sha-256' },
      ],
    },
    postgresql: {
      listen: `${node.host}:${node.port}`,
      connect_address: `${node.host}:${node.port}`,
      data_dir: paths.data,
      bin_dir: ctx.tools.pgBinDir,
      pgpass: join(paths.root, 'pgpass'),
      basebackup: [{ checkpoint: 'fast' }, 'no-sync'],
      use_unix_socket: true,
      authentication: {
        // Patroni reaches its own node over the socket (peer); pg_rewind reaches the leader over TCP.
        superuser: { username: ctx.serviceUser.name, password: ctx.secrets.postgresPassword },
        replication: { username: LAB_REPLICATION_USER, password: ctx.secrets.replicationPassword },
      },
      parameters: {
        unix_socket_directories: paths.socket,
        cluster_name: node.name,
        shared_buffers: '32MB',
        // Drills SIGKILL postmasters: posix segments would pile up in /dev/shm; mmap files go with the lab.
        dynamic_shared_memory_type: 'mmap',
        hot_standby_feedback: 'on',
        wal_receiver_status_interval: '1s',
        wal_sender_timeout: '10s',
        wal_receiver_timeout: '10s',
      },
      pg_hba: hbaConf(ctx.config, ctx.serviceUser.name)
        .split('\n')
        .filter((l) => l && !l.startsWith('#')),
    },
  };
}

/** The inventory's `ha` block for the lab. */
export function patroniInventory(config: LabConfig, passwordRef: string): HaManager {
  const patroni = config.patroni!;
  return {
    manager: 'patroni',
    rest: {
      urls: labPatroniApi(config).urls,
      username: PATRONI_REST_USER,
      password: passwordRef,
    },
    dcs: {
      type: 'etcd3',
      endpoints: etcdEndpoints(patroni),
      scope: PATRONI_SCOPE,
      namespace: PATRONI_NAMESPACE,
    },
  };
}
