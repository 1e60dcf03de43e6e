// A throw-away PostgreSQL instance for restore tests and point-in-time recovery: its own directory
// under a scratch root, a free port on 127.0.0.1, run as the unprivileged service user when we are
// root. Each directory names the process that owns it, so a run killed with SIGKILL (no finally)
// leaves something the next run recognises: its instance is stopped by PID and the directory removed.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../system/exec.js';
import { notOwnDir } from '../system/own-dir.js';
import { isRoot, makeServiceDir, serviceUser, writeServiceFile, type OsUser } from '../system/os-user.js';
import { livePostmasterPid } from '../connectors/postmaster.js';
import { logTail, stopProcess } from '../system/processes.js';
import { StepFailure, errorMessage } from '../errors.js';
import type { PgTools } from './tools.js';

const OWNER_FILE = 'owner.json';
export const SCRATCH_HOST = '127.0.0.1';

/** Under /var/tmp by default: a restore needs room, and /tmp may be a small tmpfs. */
export const defaultScratchRoot = () =>
  join(existsSync('/var/tmp') ? '/var/tmp' : tmpdir(), 'drillbook-scratch');

export interface Scratch {
  dir: string;
  /** The data directory (does not exist until a restore makes it). */
  data: string;
  /** Where downloaded backup files go. */
  files: string;
  socket: string;
  log: string;
  host: string;
  port: number;
  user: OsUser;
  /** Hands the data directory to the service user (root extracted it). */
  own(): Promise<void>;
  /**
   * Appends the scratch settings (port, address, socket, no archiving, no upstream) and `extra` to
   * postgresql.auto.conf, read last so they win over the source's, and replaces pg_hba.conf.
   */
  configure(extra: Record<string, string>): void;
  start(timeoutS: number): Promise<void>;
  /** The postmaster's PID while it runs. */
  pid(): number | undefined;
  logTail(lines?: number): string;
  /** The whole server log (recovery outcomes are read from it). */
  readLog(): string;
  /** Stops the instance (immediate shutdown, then SIGKILL) and removes the directory. */
  destroy(): Promise<void>;
}

/**
 * The scratch root must be ours alone: as root, drillbook creates, runs and removes instances
 * in it, and /var/tmp lets any user pre-create /var/tmp/drillbook-scratch.
 */
function assertOwnRoot(root: string): void {
  const problem = notOwnDir(root);
  if (problem) throw new StepFailure(`scratch directory refused: ${problem}; remove it or set scratchDir`);
}

export async function createScratch(tools: PgTools, root: string, signal: AbortSignal): Promise<Scratch> {
  const user = serviceUser();
  assertOwnRoot(root);
  await mkdir(root, { recursive: true, mode: 0o755 });
  assertOwnRoot(root);
  const dir = await mkdtemp(join(root, 'instance-'));
  writeFileSync(
    join(dir, OWNER_FILE),
    JSON.stringify({ pid: process.pid, started: startTicks(process.pid) }),
  );
  makeServiceDir(dir, user, 0o755);
  const paths = {
    data: join(dir, 'data'),
    files: join(dir, 'files'),
    socket: join(dir, 'socket'),
    log: join(dir, 'postgres.log'),
  };
  await mkdir(paths.files, { mode: 0o700 });
  makeServiceDir(paths.socket, user);
  const port = await freePort();
  const pid = () => livePostmasterPid(paths.data);
  return {
    dir,
    ...paths,
    host: SCRATCH_HOST,
    port,
    user,
    async own() {
      if (isRoot()) await run('chown', ['-R', `${user.uid}:${user.gid}`, paths.data], { signal });
    },
    configure(extra) {
      const settings = {
        port: String(port),
        listen_addresses: SCRATCH_HOST,
        unix_socket_directories: paths.socket,
        cluster_name: 'drillbook-scratch',
        // Never into the source's archive, never waiting for or following the source's standbys.
        archive_mode: 'off',
        synchronous_standby_names: '',
        primary_conninfo: '',
        primary_slot_name: '',
        ...extra,
      };
      const lines = Object.entries(settings).map(([k, v]) => `${k} = '${v.replace(/'/g, "''")}'`);
      appendFileSync(
        join(paths.data, 'postgresql.auto.conf'),
        `\n# drillbook scratch instance\n${lines.join('\n')}\n`,
      );
      // Password logins from loopback only, with the roles the backup brought (md5 accepts SCRAM too).
      writeServiceFile(
        join(paths.data, 'pg_hba.conf'),
        `local all all peer\nhost all all ${SCRATCH_HOST}/32 md5\n`,
        user,
      );
    },
    async start(timeoutS) {
      writeServiceFile(paths.log, '', user);
      try {
        await tools.run(
          'pg_ctl',
          ['-D', paths.data, '-l', paths.log, '-w', '-t', String(timeoutS), 'start'],
          {
            as: user,
            what: 'starting the scratch instance',
          },
        );
      } catch (err) {
        throw new StepFailure(`${errorMessage(err)}\n${logTail(paths.log, 12)}`, {
          retryable: false,
          cause: err,
        });
      }
    },
    pid,
    logTail: (lines = 12) => logTail(paths.log, lines),
    readLog: () => (existsSync(paths.log) ? readFileSync(paths.log, 'utf8') : ''),
    destroy: () => destroyInstance(dir),
  };
}

/** Stops and removes instances whose owning process is gone (a run killed with SIGKILL); their dirs. */
export async function cleanStaleScratch(root: string): Promise<string[]> {
  if (!existsSync(root)) return [];
  assertOwnRoot(root);
  const removed: string[] = [];
  for (const name of await readdir(root)) {
    const dir = join(root, name);
    if (!name.startsWith('instance-') || ownerAlive(dir)) continue;
    await destroyInstance(dir);
    removed.push(dir);
  }
  return removed;
}

async function destroyInstance(dir: string): Promise<void> {
  const pid = livePostmasterPid(join(dir, 'data'));
  // SIGQUIT is PostgreSQL's immediate shutdown: nothing of a scratch copy is worth a checkpoint.
  if (pid) await stopProcess(pid, dir, 'SIGQUIT', 10_000);
  await rm(dir, { recursive: true, force: true });
}

/** An empty file in the data directory, owned by the service user (recovery.signal). */
export function touchServiceFile(scratch: Scratch, name: string): void {
  writeServiceFile(join(scratch.data, name), '', scratch.user);
}

function ownerAlive(dir: string): boolean {
  try {
    const owner = JSON.parse(readFileSync(join(dir, OWNER_FILE), 'utf8')) as { pid: number; started: string };
    return startTicks(owner.pid) === owner.started;
  } catch {
    return false;
  }
}

/** A process's start time (clock ticks since boot): with the PID, it names one process for good. */
function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: SCRATCH_HOST, port: 0, exclusive: true }, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
