// PostgreSQL nodes: an initdb'd primary and streaming replicas made with pg_basebackup -R.
import { appendFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { StepFailure } from '../errors.js';
import { LAB_DATABASE, LAB_REPLICATION_USER, LAB_USER, type LabConfig, type LabNode } from './config.js';
import type { LabContext } from './context.js';
import { makeServiceDir, writeServiceFile } from '../system/os-user.js';
import { run } from '../system/exec.js';
import { nodePaths, type LabPaths } from './paths.js';
import { logTail, stopProcess, waitFor } from '../system/processes.js';
import { POSTMASTER_SH, livePostmasterPid } from '../connectors/postmaster.js';
import { shq } from '../connectors/shell-quote.js';
import type { ComponentState } from './state.js';
import { directStandbys, synchronousStandbyNames } from './topology.js';
import { pgbackrestArchiveCommand, writePgbackrestConfig } from './pgbackrest.js';

const START_TIMEOUT_S = 60;
const STREAMING_TIMEOUT_MS = 30_000;

/** Creates (or repairs, or just starts) the primary; true when it was built in this run. */
export async function ensurePrimary(ctx: LabContext, node: LabNode): Promise<boolean> {
  const existing = ctx.state.components[node.name];
  if (existing?.created) return startIfStopped(ctx, node);
  const paths = await prepareNodeDirs(ctx, node);
  if (ctx.config.archive?.tool === 'pgbackrest') writePgbackrestConfig(ctx, node);
  else if (ctx.config.archive) makeServiceDir(ctx.paths.archive, ctx.serviceUser);
  writeServiceFile(
    ctx.paths.pgpass,
    `*:*:*:${LAB_REPLICATION_USER}:${ctx.secrets.replicationPassword}\n`,
    ctx.serviceUser,
  );
  await run(
    join(ctx.tools.pgBinDir, 'initdb'),
    [
      '-D',
      paths.data,
      '-U',
      ctx.serviceUser.name,
      '--auth-local=peer',
      '--auth-host=scram-sha-256',
      '--no-locale',
      '-E',
      'UTF8',
      '--no-sync',
    ],
    { as: ctx.serviceUser },
  );
  writeServiceFile(
    join(paths.data, 'pg_hba.conf'),
    hbaConf(ctx.config, ctx.serviceUser.name),
    ctx.serviceUser,
  );
  appendFileSync(join(paths.data, 'postgresql.conf'), `\ninclude = '${NODE_CONF}'\n`);
  writeNodeConf(ctx, node, false);
  await startNode(ctx, node);
  await psql(ctx, node, setupSql(ctx));
  ctx.record(node.name, nodeState(ctx, node, true));
  ctx.report(`${node.name}: primary created at ${node.host}:${node.port}`);
  return true;
}

/**
 * Creates (or repairs, or just starts) a streaming replica of `upstream` (the primary, or a replica
 * for a cascade) with its own slot there; true when built now.
 */
export async function ensureReplica(ctx: LabContext, node: LabNode, upstream: LabNode): Promise<boolean> {
  const existing = ctx.state.components[node.name];
  if (existing?.created) return startIfStopped(ctx, node);
  const paths = await prepareNodeDirs(ctx, node);
  await psql(
    ctx,
    upstream,
    `SELECT pg_create_physical_replication_slot('${node.name}') WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = '${node.name}');`,
  );
  const conninfo = `host=${upstream.host} port=${upstream.port} user=${LAB_REPLICATION_USER} application_name=${node.name} passfile=${ctx.paths.pgpass}`;
  await run(
    join(ctx.tools.pgBinDir, 'pg_basebackup'),
    ['-D', paths.data, '-d', conninfo, '-R', '-X', 'stream', '-S', node.name, '-c', 'fast', '--no-sync'],
    { as: ctx.serviceUser },
  );
  writeNodeConf(ctx, node, true);
  await startNode(ctx, node);
  ctx.record(node.name, nodeState(ctx, node, true));
  ctx.report(`${node.name}: replica of ${upstream.name} created at ${node.host}:${node.port}`);
  return true;
}

/**
 * Waits until each upstream streams to each of its replicas, then (with a sync mode) makes the
 * primary's commits wait for its direct standbys: switched on only now, so building the lab never
 * waits for a standby that is not there yet.
 */
export async function finishReplication(ctx: LabContext, primary: LabNode): Promise<void> {
  const byName = new Map(ctx.config.nodes.map((n) => [n.name, n]));
  const upstreams = ctx.config.upstreams;
  const parents = [...new Set(Object.values(upstreams))];
  // Each upstream shows its replicas in pg_stat_replication; a replica counts once it streams.
  const allStreaming = async () => {
    for (const parent of parents) {
      const out = await psql(
        ctx,
        byName.get(parent)!,
        `SELECT application_name FROM pg_stat_replication WHERE state = 'streaming';`,
      );
      const seen = new Set(out.split('\n'));
      if (!Object.keys(upstreams).every((r) => upstreams[r] !== parent || seen.has(r))) return false;
    }
    return true;
  };
  if (!(await waitFor(allStreaming, STREAMING_TIMEOUT_MS, 100))) {
    throw new StepFailure(
      `replicas ${Object.entries(upstreams)
        .map(([r, up]) => `${up}>${r}`)
        .join(
          ', ',
        )} did not all start streaming within ${STREAMING_TIMEOUT_MS / 1000} s; see ${ctx.paths.postgres}/*/postgres.log`,
      { stepId: 'lab' },
    );
  }
  if (ctx.config.sync.mode === 'async') return;
  for (const node of ctx.config.nodes) writeNodeConf(ctx, node, true);
  await psql(ctx, primary, 'SELECT pg_reload_conf();');
  // The reload returns before the WAL senders reread the setting: until they have, commits are not
  // yet waited for, so the lab is up only once every direct standby counts as a synchronous
  // candidate (quorum; sync or potential under FIRST).
  const direct = directStandbys(upstreams, primary.name);
  const candidates = async () => {
    const out = await psql(
      ctx,
      primary,
      `SELECT application_name FROM pg_stat_replication WHERE sync_state IN ('quorum', 'sync', 'potential');`,
    );
    const seen = new Set(out.split('\n'));
    return direct.every((n) => seen.has(n));
  };
  if (!(await waitFor(candidates, STREAMING_TIMEOUT_MS, 50))) {
    throw new StepFailure(
      `synchronous replication did not take effect on ${primary.name} within ${STREAMING_TIMEOUT_MS / 1000} s; see ${ctx.paths.postgres}/*/postgres.log`,
      { stepId: 'lab' },
    );
  }
}

/** The live postmaster PID of a node's data directory, if it runs (a killed one's zombie does not). */
export const postmasterPid = (paths: LabPaths, node: string): number | undefined =>
  livePostmasterPid(nodePaths(paths, node).data);

/** Fast shutdown (SIGINT) by PID, waiting for the exit. */
export async function stopNode(paths: LabPaths, node: string): Promise<void> {
  const pid = postmasterPid(paths, node);
  if (pid) await stopProcess(pid, paths.dir, 'SIGINT', 15_000);
}

const NODE_CONF = 'drillbook.conf';

async function startIfStopped(ctx: LabContext, node: LabNode): Promise<false> {
  if (postmasterPid(ctx.paths, node.name)) {
    ctx.record(node.name, nodeState(ctx, node, true));
    ctx.report(`${node.name}: already running`);
    return false;
  }
  await startNode(ctx, node);
  ctx.record(node.name, nodeState(ctx, node, true));
  ctx.report(`${node.name}: restarted`);
  return false;
}

async function startNode(ctx: LabContext, node: LabNode): Promise<void> {
  const paths = nodePaths(ctx.paths, node.name);
  try {
    // A drill may have killed it: its stale postmaster.pid (maybe naming a zombie) goes first.
    await run('/bin/sh', ['-c', `${POSTMASTER_SH}\npg_clear_stale ${shq(paths.data)}`], {
      as: ctx.serviceUser,
    });
    await run(
      join(ctx.tools.pgBinDir, 'pg_ctl'),
      ['-D', paths.data, '-l', paths.log, '-w', '-t', String(START_TIMEOUT_S), 'start'],
      {
        as: ctx.serviceUser,
      },
    );
  } catch (err) {
    throw new StepFailure(
      `${node.name} did not start: ${err instanceof Error ? err.message : String(err)}\n${logTail(paths.log)}`,
      { stepId: 'lab' },
    );
  }
}

/** A node that was never finished is ours to rebuild: stopped if a crash left it running, then removed. */
async function prepareNodeDirs(ctx: LabContext, node: LabNode) {
  const paths = nodePaths(ctx.paths, node.name);
  ctx.record(node.name, nodeState(ctx, node, false));
  await stopNode(ctx.paths, node.name);
  rmSync(paths.root, { recursive: true, force: true });
  makeServiceDir(ctx.paths.postgres, ctx.serviceUser);
  makeServiceDir(paths.root, ctx.serviceUser);
  makeServiceDir(paths.socket, ctx.serviceUser);
  return paths;
}

function nodeState(ctx: LabContext, node: LabNode, created: boolean): ComponentState {
  return {
    kind: 'postgres',
    pid: postmasterPid(ctx.paths, node.name),
    listen: [{ host: node.host, port: node.port }],
    created,
  };
}

/** `sync` false writes no synchronous rule (while the lab is built: no standby streams yet). */
function writeNodeConf(ctx: LabContext, node: LabNode, sync: boolean): void {
  const paths = nodePaths(ctx.paths, node.name);
  // Every node lists every other, the primary's direct standbys first (FIRST takes them in order),
  // so the rule still holds after a failover changes the primary. Only standbys connected to the
  // primary itself count: a cascaded replica never acknowledges a commit.
  const direct = directStandbys(ctx.config.upstreams, ctx.config.nodes[0]!.name);
  const others = ctx.config.nodes.map((n) => n.name).filter((n) => n !== node.name);
  const standbys = [
    ...others.filter((n) => direct.includes(n)),
    ...others.filter((n) => !direct.includes(n)),
  ];
  const lines = [
    `# Written by drillbook lab for ${node.name}.`,
    `listen_addresses = '${node.host}'`,
    `port = ${node.port}`,
    `unix_socket_directories = '${paths.socket}'`,
    `cluster_name = '${node.name}'`,
    'wal_level = replica',
    'wal_log_hints = on',
    'hot_standby = on',
    'hot_standby_feedback = on',
    'max_wal_senders = 16',
    'max_replication_slots = 16',
    'max_connections = 50',
    'shared_buffers = 32MB',
    // Drills SIGKILL postmasters: posix segments would pile up in /dev/shm; mmap files go with the lab.
    'dynamic_shared_memory_type = mmap',
    'wal_receiver_status_interval = 1s',
    'wal_sender_timeout = 10s',
    'wal_receiver_timeout = 10s',
    // pg_rewind needs the old primary's WAL back to the last common checkpoint: keep some around.
    'wal_keep_size = 256MB',
    `synchronous_standby_names = '${sync ? synchronousStandbyNames(ctx.config.sync, standbys) : ''}'`,
    ...archiveConf(ctx, node),
  ];
  writeServiceFile(join(paths.data, NODE_CONF), lines.join('\n') + '\n', ctx.serviceUser);
}

/**
 * WAL archiving into the lab's archive directory. Every node gets it, so a promoted replica goes on
 * archiving (a standby does not archive with archive_mode = on). A segment is copied under a
 * temporary name, flushed and renamed, so a reader never sees half a file; an existing segment is
 * never overwritten: the same bytes count as archived (a retry after a crash), different bytes fail.
 * A copy that fails (a full archive disk) removes its temporary file, so the retries leave nothing.
 */
function archiveConf(ctx: LabContext, node: LabNode): string[] {
  if (!ctx.config.archive) return [];
  const dest = `${ctx.paths.archive}/%f`;
  const command =
    ctx.config.archive.tool === 'pgbackrest'
      ? pgbackrestArchiveCommand(ctx, node)
      : [
          `if test -f "${dest}"; then cmp -s "%p" "${dest}";`,
          `else cp "%p" "${dest}.tmp.$$" && sync "${dest}.tmp.$$" && mv "${dest}.tmp.$$" "${dest}"`,
          `|| { rm -f "${dest}.tmp.$$"; false; }; fi`,
        ].join(' ');
  return [
    'archive_mode = on',
    `archive_command = '${command.replace(/'/g, "''")}'`,
    `archive_timeout = ${ctx.config.archive.timeoutS}s`,
  ];
}

/** Lab addresses only: the node addresses and 127.0.0.1 (the source of loopback connections). */
export function hbaConf(config: LabConfig, superuser: string): string {
  const sources = ['127.0.0.1', ...config.nodes.map((n) => n.host)];
  return (
    [
      '# Written by drillbook lab.',
      `local all ${superuser} peer`,
      'local all all scram-sha-256',
      ...sources.flatMap((s) => [
        `host all all ${s}/32 scram-sha-256`,
        `host replication ${LAB_REPLICATION_USER} ${s}/32 scram-sha-256`,
      ]),
    ].join('\n') + '\n'
  );
}

export function setupSql(ctx: LabContext): string {
  return `
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${LAB_USER}') THEN CREATE ROLE ${LAB_USER} LOGIN SUPERUSER; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${LAB_REPLICATION_USER}') THEN CREATE ROLE ${LAB_REPLICATION_USER} LOGIN REPLICATION; END IF;
END $$;
ALTER ROLE ${LAB_USER} PASSWORD '${ctx.secrets.postgresPassword}';
ALTER ROLE ${LAB_REPLICATION_USER} PASSWORD '${ctx.secrets.replicationPassword}';
SELECT 'CREATE DATABASE ${LAB_DATABASE} OWNER ${LAB_USER}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${LAB_DATABASE}')\\gexec
`;
}

/** SQL as the superuser over the node's Unix socket (peer auth); the text arrives on stdin. */
export async function psql(ctx: LabContext, node: LabNode, sql: string): Promise<string> {
  const socket = nodePaths(ctx.paths, node.name).socket;
  const { stdout } = await run(
    join(ctx.tools.pgBinDir, 'psql'),
    [
      '-X',
      '-q',
      '-A',
      '-t',
      '-v',
      'ON_ERROR_STOP=1',
      '-h',
      socket,
      '-p',
      String(node.port),
      '-U',
      ctx.serviceUser.name,
      '-d',
      'postgres',
      '-f',
      '-',
    ],
    { as: ctx.serviceUser, input: sql },
  );
  return stdout.trim();
}
