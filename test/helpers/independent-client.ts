// The independent client (independent-client.py: libpq through Debian's python3-psycopg2, not
// node-pg) as a test handle: start() resolves after its first acknowledged write, stop() sends
// SIGTERM and resolves with what it saw.
import { spawn } from 'node:child_process';
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
  ].flat();
}

export interface ConnectAttempt {
  ok: boolean;
  /** From the attempt's start until it wrote a row or failed. */
  ms: number;
  error?: string;
}

/** One new client's connect-and-write attempt, timed by the client itself. */
export function attemptConnect(opts: IndependentClientOptions): Promise<ConnectAttempt> {
  const child = spawn(PYTHON, [...scriptArgs(opts), '--once'], {
    env: { ...process.env, PGPASSWORD: opts.password },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(stdout) as ConnectAttempt)
        : reject(new Error(`independent client --once exited with ${code}: ${stderr}`)),
    ),
  );
}

export async function startIndependentClient(opts: IndependentClientOptions): Promise<IndependentClient> {
  const child = spawn(PYTHON, scriptArgs(opts), {
    env: { ...process.env, PGPASSWORD: opts.password },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(new Error(`independent client: no acknowledged write in ${READY_TIMEOUT_MS} ms: ${stderr}`)),
      READY_TIMEOUT_MS,
    );
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (/^ready$/m.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`independent client exited (${code}) before its first write: ${stderr}`));
    });
  });
  const stop = async (): Promise<IndependentClientResult> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const code = await exited;
    if (code !== 0) throw new Error(`independent client exited with ${code}: ${stderr}`);
    return JSON.parse(stdout) as IndependentClientResult;
  };
  try {
    await ready;
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw err;
  }
  return { pid: child.pid!, stop };
}
