// The independent client (independent-client.py: libpq through Debian's python3-psycopg2, not
// node-pg) as a test handle: start() resolves after its first acknowledged write, stop() sends
// SIGTERM and resolves with what it saw; prepareConnectAttempt() times one new client's attempt.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

/** Debian's interpreter: a `python3` earlier on PATH may lack Debian's psycopg2. */
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./independent-client.py', import.meta.url));
const READY_TIMEOUT_MS = 15_000;

export interface IndependentClientOptions {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  /** libpq connect_timeout in seconds (libpq takes 1 as 2). */
  connectTimeoutS: number;
  writeTimeoutMs?: number;
  intervalMs?: number;
  /** Pause after a failure before reconnecting (default: until the next tick of the interval). */
  reconnectDelayMs?: number;
  table?: string;
}

export interface IndependentClientResult {
  startedAt: number;
  stoppedAt: number;
  intervalMs: number;
  sent: number;
  acked: number;
  failed: number;
  firstAckAt: number | null;
  lastAckAt: number | null;
  /** Every acknowledged write (epoch ms). */
  ackedAt: number[];
  /** Epoch ms pairs between acknowledged writes further apart than twice the interval. */
  gaps: { startMs: number; endMs: number }[];
  longestGapMs: number;
  firstFailureAt: number | null;
  lastFailureAt: number | null;
  failures: { atMs: number; tookMs: number; phase: 'connect' | 'write'; error: string }[];
}

export interface IndependentClient {
  pid: number;
  stop(): Promise<IndependentClientResult>;
}

function scriptArgs(opts: IndependentClientOptions): string[] {
  return [
    SCRIPT,
    ['--host', opts.host],
    ['--port', String(opts.port)],
    ['--dbname', opts.database],
    ['--user', opts.user],
    ['--connect-timeout', String(opts.connectTimeoutS)],
    ['--write-timeout-ms', String(opts.writeTimeoutMs ?? 5000)],
    ['--interval-ms', String(opts.intervalMs ?? 50)],
    ['--table', opts.table ?? 'independent_client'],
    opts.reconnectDelayMs === undefined ? [] : ['--reconnect-delay-ms', String(opts.reconnectDelayMs)],
  ].flat();
}

export interface ConnectAttempt {
  ok: boolean;
  /** From the attempt's start until it wrote a row or failed. */
  ms: number;
  error?: string;
}

/**
 * A new client, started and waiting: attempt() makes its one connect-and-write attempt at once
 * (timed by the client itself) and resolves with the outcome.
 */
export async function prepareConnectAttempt(
  opts: IndependentClientOptions,
): Promise<{ attempt(): Promise<ConnectAttempt> }> {
  const child = spawn(PYTHON, [...scriptArgs(opts), '--once'], {
    env: { ...process.env, PGPASSWORD: opts.password },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  const stderr = readyOn(child);
  const outcome = new Promise<ConnectAttempt>((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(stdout) as ConnectAttempt)
        : reject(new Error(`independent client --once exited with ${code}: ${stderr.text()}`)),
    ),
  );
  await stderr.ready.catch(async (err: unknown) => {
    child.kill('SIGKILL');
    await outcome.catch(() => undefined);
    throw err;
  });
  return {
    attempt: () => {
      child.stdin.end('go\n');
      return outcome;
    },
  };
}

/** Resolves `ready` when the client prints its "ready" line on stderr; rejects if it exits first. */
function readyOn(child: ChildProcessByStdio<Writable | null, Readable, Readable>) {
  let text = '';
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`independent client: not ready in ${READY_TIMEOUT_MS} ms: ${text}`)),
      READY_TIMEOUT_MS,
    );
    child.stderr.on('data', (c: Buffer) => {
      text += c.toString();
      if (/^ready$/m.test(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`independent client exited (${code}) before it was ready: ${text}`));
    });
  });
  return { ready, text: () => text };
}

export async function startIndependentClient(opts: IndependentClientOptions): Promise<IndependentClient> {
  const child = spawn(PYTHON, scriptArgs(opts), {
    env: { ...process.env, PGPASSWORD: opts.password },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const stderr = readyOn(child);
  const stop = async (): Promise<IndependentClientResult> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const code = await exited;
    if (code !== 0) throw new Error(`independent client exited with ${code}: ${stderr.text()}`);
    return JSON.parse(stdout) as IndependentClientResult;
  };
  try {
    await stderr.ready;
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw err;
  }
  return { pid: child.pid!, stop };
}
