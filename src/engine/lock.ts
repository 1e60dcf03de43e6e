// The run lock: at most one run per environment, plus one per `lock:` key a runbook adds. Locally an
// exclusive lock file naming its holder (in the machine's state directory); when the environment
// has a coordination database, also a PostgreSQL advisory lock held by a dedicated session for the
// whole run, so responders on different machines exclude each other.
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { connectPostgres } from '../connectors/postgres.js';
import { UserError } from '../errors.js';
import type { Environment } from '../schema/inventory.js';
import { StateWriteFailed } from './journal.js';
import { isAlive } from '../system/processes.js';
import { lockPath, privateDir } from '../system/run-paths.js';

export interface LockHolder {
  key: string;
  operator: string;
  runId: string;
  /** ISO time the lock was taken. */
  since: string;
  pid: number;
  host: string;
}

/** Another run holds the lock. Bad input to this command (exit 2): nothing was started. */
export class RunLocked extends UserError {
  override name = 'RunLocked';
  constructor(
    readonly key: string,
    readonly holder: Partial<LockHolder> | undefined,
    where: string,
  ) {
    const who = holder
      ? `${holder.operator ?? 'unknown operator'} (run ${holder.runId ?? '?'}${holder.pid ? `, pid ${holder.pid}` : ''}${holder.host ? ` on ${holder.host}` : ''}, since ${holder.since ?? '?'})`
      : 'another run';
    super(`lock "${key}" is held by ${who} [${where}]; only one run per environment at a time`);
  }
}

export interface HeldLock {
  /** The dead holder whose lock was taken over, if any (worth telling the operator). */
  tookOver?: LockHolder;
  release(): Promise<void>;
}

const readHolder = (path: string): LockHolder | undefined => {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
  } catch {
    return undefined; // gone, or its creator is between open and write
  }
};

/** How long a creator may take between creating the lock file and writing its holder into it. */
const WRITE_GRACE_MS = 2000;

/**
 * A holder is known dead when it ran on this host and its process is gone. A file that is still
 * empty or unreadable after the grace period is stale too: its creator failed to write it (a full
 * disk) or died in between, and it must not block the environment for good.
 */
function isStale(path: string, h: LockHolder | undefined): boolean {
  if (h) return h.host === hostname() && !isAlive(h.pid);
  try {
    return Date.now() - statSync(path).mtimeMs > WRITE_GRACE_MS;
  } catch {
    return false; // gone: the next try creates it
  }
}

const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Creates `path` with `content` only if it does not exist yet; false when it did. */
export function createExclusive(path: string, content: object): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    const text = JSON.stringify(content) + '\n';
    if (writeSync(fd, text) !== Buffer.byteLength(text)) throw new Error(`short write to ${path}`);
    fsyncSync(fd);
  } catch (err) {
    // A half-written lock (ENOSPC) would block every later run: it goes, the error stays.
    unlinkSync(path);
    throw err;
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Who holds the lock of `key` on this machine now (a live holder), if anyone. */
export function lockHolder(stateDir: string, key: string): LockHolder | undefined {
  const path = lockPath(stateDir, key);
  const h = readHolder(path);
  return h && !isStale(path, h) ? h : undefined;
}

/** Takes the lock file, taking over from a dead holder on this host. */
export function acquireFileLock(path: string, holder: LockHolder): HeldLock {
  try {
    privateDir(dirname(path));
  } catch (err) {
    throw new StateWriteFailed(dirname(path), err);
  }
  let tookOver: LockHolder | undefined;
  const tries = 5 + WRITE_GRACE_MS / 100;
  for (let n = 0; n < tries; n++) {
    let created: boolean;
    try {
      created = createExclusive(path, holder);
    } catch (err) {
      throw new StateWriteFailed(path, err);
    }
    if (created) {
      return {
        tookOver,
        release: async () => {
          // Only our own lock: after a takeover the file belongs to someone else.
          if (readHolder(path)?.runId === holder.runId && readHolder(path)?.pid === holder.pid)
            unlinkSync(path);
        },
      };
    }
    const current = readHolder(path);
    if (!isStale(path, current)) {
      if (current || n === tries - 1) throw new RunLocked(holder.key, current, path);
      pause(100); // being written right now: look again
      continue;
    }
    // Two processes may find the same dead holder: a takeover guard lets only one replace it.
    const guard = `${path}.takeover`;
    if (!createExclusive(guard, { pid: process.pid, host: hostname() })) {
      if (isStale(guard, readHolder(guard) as LockHolder | undefined)) unlinkSync(guard);
      continue;
    }
    try {
      const again = readHolder(path);
      if (!current && !again) unlinkSync(path);
      else if (again && again.runId === current?.runId && again.pid === current.pid) {
        unlinkSync(path);
        tookOver = current;
      }
    } finally {
      unlinkSync(guard);
    }
  }
  throw new RunLocked(holder.key, readHolder(path), path);
}

/** The advisory lock id of a key: 64 bits of its SHA-256, as PostgreSQL's signed bigint. */
export function advisoryLockId(key: string): bigint {
  return createHash('sha256').update(`drillbook:${key}`).digest().readBigInt64BE(0);
}

/**
 * Takes `pg_try_advisory_lock` on a session kept open for the run. The holder is written into
 * application_name, so a refused run can tell who holds it.
 */
export async function acquirePgLock(
  coordination: NonNullable<Environment['coordination']>,
  holder: LockHolder,
  options: { secret(ref: string): Promise<string>; onLost?(error: Error): void; connectTimeoutMs?: number },
): Promise<HeldLock> {
  const id = advisoryLockId(holder.key);
  const where = `advisory lock on ${coordination.host}:${coordination.port}/${coordination.database}`;
  const client = await connectPostgres(coordination, {
    secret: options.secret,
    connectTimeoutMs: options.connectTimeoutMs,
    applicationName: `drillbook ${holder.runId} ${holder.operator}`.slice(0, 63),
  });
  try {
    const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1::bigint) as ok', [
      id.toString(),
    ]);
    if (!rows[0]?.ok) throw new RunLocked(holder.key, await pgHolder(client, id), where);
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
  let released = false;
  client.on('error', (err) => {
    if (!released) options.onLost?.(err);
  });
  return {
    release: async () => {
      released = true;
      // Closing the session releases the lock even if the unlock query cannot run.
      await client.query('select pg_advisory_unlock($1::bigint)', [id.toString()]).catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

/** Who holds an advisory lock: pg_locks splits the bigint key into classid (high) and objid (low). */
async function pgHolder(client: import('pg').Client, id: bigint): Promise<Partial<LockHolder> | undefined> {
  const unsigned = BigInt.asUintN(64, id);
  const { rows } = await client.query<{ application_name: string; backend_start: Date }>(
    `select a.application_name, a.backend_start
       from pg_locks l join pg_stat_activity a on a.pid = l.pid
      where l.locktype = 'advisory' and l.granted and l.objsubid = 1 and l.classid = $1::oid and l.objid = $2::oid`,
    [(unsigned >> 32n).toString(), (unsigned & 0xffffffffn).toString()],
  );
  const row = rows[0];
  if (!row) return undefined;
  const [, runId, operator] = row.application_name.split(' ');
  return { runId, operator, since: row.backend_start.toISOString() };
}

/**
 * The locks of a run, one per key (the environment's, then what the runbook's `lock:` adds), each
 * the local file then (when configured) the coordination database. Keys are taken in sorted order,
 * so two runs wanting the same two keys cannot each hold one.
 */
export async function acquireRunLock(options: {
  stateDir: string;
  keys: string[];
  holder: Omit<LockHolder, 'key'>;
  coordination?: Environment['coordination'];
  secret(ref: string): Promise<string>;
  onLost?(error: Error): void;
}): Promise<HeldLock> {
  const held: HeldLock[] = [];
  // File releases are synchronous inside: a hard exit right after still frees them.
  const release = async () => {
    await Promise.all(
      held
        .splice(0)
        .reverse()
        .map((l) => l.release()),
    );
  };
  try {
    for (const key of [...new Set(options.keys)].sort()) {
      const holder = { ...options.holder, key };
      held.push(acquireFileLock(lockPath(options.stateDir, key), holder));
      if (options.coordination) held.push(await acquirePgLock(options.coordination, holder, options));
    }
  } catch (err) {
    await release();
    throw err;
  }
  return { tookOver: held.find((l) => l.tookOver)?.tookOver, release };
}
