// One reachability probe (postgres, tcp, sql, http) from one vantage point: here, or on an SSH
// host with the tools found there (psql, bash's /dev/tcp, curl), so a partition of that host
// changes its answer. Probes never throw for the target's state: "down" is an answer.
import { connect } from 'node:net';
import { connectPostgres, type PgEndpoint } from '../connectors/postgres.js';
import { errorMessage } from '../errors.js';
import { binDirOn, runRemote } from '../connectors/node-host.js';
import { shq } from '../connectors/shell-quote.js';
import type { ActionContext } from './types.js';

export type ProbeSpec =
  | { check: 'postgres'; endpoint: PgEndpoint }
  | { check: 'sql'; endpoint: PgEndpoint; query: string; values: unknown[] }
  | { check: 'tcp'; host: string; port: number }
  | { check: 'http'; url: string };

/**
 * `answer`: the target answered (value: role, first column, HTTP status, "up");
 * `down`: refused, timed out or rejecting connections; `error`: anything else (bad password, SQL error).
 */
export interface ProbeResult {
  state: 'answer' | 'down' | 'error';
  value?: string;
  error?: string;
}

type ProbeContext = Pick<ActionContext, 'env' | 'signal' | 'secret'>;

const DOWN_CODES = new Set([
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  '57P03',
]);
/** libpq and node-postgres wordings of "nobody answers" (57P03: starting up or shutting down). */
const DOWN_TEXT =
  /Connection refused|timeout expired|connection timeout|timed out|No route to host|Network is unreachable|terminated unexpectedly|the database system is (starting up|shutting down|in recovery mode)/i;

export async function probe(
  ctx: ProbeContext,
  from: string,
  spec: ProbeSpec,
  timeoutMs: number,
): Promise<ProbeResult> {
  try {
    return from === 'local'
      ? await probeHere(ctx, spec, timeoutMs)
      : await probeOver(ctx, from.slice('ssh:'.length), spec, timeoutMs);
  } catch (err) {
    // The vantage point itself failed (SSH refused, host key mismatch): it cannot vouch for anything.
    return { state: 'error', error: errorMessage(err) };
  }
}

async function probeHere(ctx: ProbeContext, spec: ProbeSpec, timeoutMs: number): Promise<ProbeResult> {
  switch (spec.check) {
    case 'postgres':
    case 'sql':
      return sqlHere(ctx, spec.endpoint, spec.check === 'sql' ? spec : undefined, timeoutMs);
    case 'tcp':
      return tcpHere(spec.host, spec.port, timeoutMs, ctx.signal);
    case 'http':
      return httpHere(spec.url, timeoutMs, ctx.signal);
  }
}

async function sqlHere(
  ctx: ProbeContext,
  endpoint: PgEndpoint,
  sql: { query: string; values: unknown[] } | undefined,
  timeoutMs: number,
): Promise<ProbeResult> {
  let client;
  try {
    client = await connectPostgres(endpoint, {
      signal: ctx.signal,
      secret: ctx.secret,
      connectTimeoutMs: timeoutMs,
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    const down = DOWN_CODES.has(cause?.code ?? '') || DOWN_TEXT.test(errorMessage(err));
    return { state: down ? 'down' : 'error', error: errorMessage(err) };
  }
  try {
    const text = sql?.query ?? 'SELECT pg_is_in_recovery()';
    // With values node-postgres uses the extended protocol: one statement, values bound apart from the text.
    const values = sql?.values ?? [];
    const { rows } = await client.query<unknown[]>({ text, values, rowMode: 'array' });
    const first = rows[0]?.[0];
    if (sql === undefined) return { state: 'answer', value: first ? 'replica' : 'primary' };
    return { state: 'answer', value: first === null || first === undefined ? '' : String(first) };
  } catch (err) {
    return { state: 'error', error: errorMessage(err) };
  } finally {
    await client.end().catch(() => undefined);
  }
}

function tcpHere(host: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs, signal });
    const done = (result: ProbeResult) => {
      socket.destroy();
      resolve(result);
    };
    socket.once('connect', () => done({ state: 'answer', value: 'up' }));
    socket.once('timeout', () =>
      done({ state: 'down', error: `${host}:${port}: no answer in ${timeoutMs} ms` }),
    );
    socket.once('error', (err) => done({ state: 'down', error: `${host}:${port}: ${err.message}` }));
  });
}

async function httpHere(url: string, timeoutMs: number, signal: AbortSignal): Promise<ProbeResult> {
  try {
    const response = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) });
    await response.body?.cancel();
    return { state: 'answer', value: String(response.status) };
  } catch (err) {
    const message = errorMessage((err as { cause?: unknown }).cause ?? err);
    return { state: 'down', error: `${url}: ${message}` };
  }
}

/**
 * psql (15) has no bind parameters: a query with values runs as a prepared statement whose
 * arguments are literals quoted by node-postgres, so the server still parses the values as values.
 */
async function remoteSql(query: string, values: unknown[]): Promise<string> {
  if (values.length === 0) return query;
  // Loaded here, not at the top: validate and plan import this module and must not load pg.
  const { escapeLiteral } = await import('pg');
  const args = values.map((v) => (v === null ? 'NULL' : escapeLiteral(String(v))));
  return `PREPARE drillbook_check AS ${query};\nEXECUTE drillbook_check(${args.join(', ')})`;
}

/** Remote probes print one line: `answer VALUE`, `down` or nothing (stderr tells the error). */
async function probeOver(
  ctx: ProbeContext,
  ssh: string,
  spec: ProbeSpec,
  timeoutMs: number,
): Promise<ProbeResult> {
  const seconds = (timeoutMs / 1000).toFixed(3);
  let script: string;
  let stdin: string | undefined;
  switch (spec.check) {
    case 'postgres':
    case 'sql': {
      const e = spec.endpoint;
      const bin = binDirOn(ctx.env, ssh);
      const psql = shq(bin ? `${bin}/psql` : 'psql');
      const query =
        spec.check === 'sql' ? await remoteSql(spec.query, spec.values) : 'SELECT pg_is_in_recovery()';
      stdin = e.password ? `${await ctx.secret(e.password)}\n` : '\n';
      // psql's own connect timeout rounds up to 2 s; coreutils timeout keeps the short one (exit 124).
      script = [
        'IFS= read -r PGPASSWORD || true; export PGPASSWORD',
        `out=$(timeout ${seconds} ${psql} -X -A -t -q -v ON_ERROR_STOP=1 -F "$(printf '\\037')" -h ${shq(e.host)} -p ${e.port} -U ${shq(e.user)} -d ${shq(e.database)} -c ${shq(query)})`,
        'rc=$?',
        'if [ $rc -eq 0 ]; then printf "answer %s\\n" "$(printf "%s\\n" "$out" | head -n 1)"; exit 0; fi',
        'if [ $rc -eq 124 ]; then echo down; echo "no answer in time" >&2; exit 0; fi',
        'exit $rc',
      ].join('\n');
      break;
    }
    case 'tcp':
      script = `if timeout ${seconds} bash -c ${shq(`exec 3<>/dev/tcp/${shq(spec.host)}/${shq(spec.port)}`)}; then echo 'answer up'; else echo down; fi`;
      break;
    case 'http':
      // curl exit 7: could not connect, 28: timed out.
      script = `code=$(curl -s -o /dev/null -w '%{http_code}' --max-time ${seconds} ${shq(spec.url)}); rc=$?; if [ $rc -eq 0 ]; then echo "answer $code"; elif [ $rc -eq 7 ] || [ $rc -eq 28 ]; then echo down; else echo "curl exit $rc" >&2; exit $rc; fi`;
      break;
  }
  const r = await runRemote(ctx, ssh, `${spec.check} check`, script, {
    stdin,
    readyTimeoutMs: Math.max(timeoutMs * 2, 2000),
    okExitCodes: [1, 2, 3, 4, 5, 6, 7, 127],
  });
  const line = r.stdout.split('\n')[0] ?? '';
  const error = r.stderr.trim() || undefined;
  if (line.startsWith('answer ')) {
    const value =
      spec.check === 'postgres'
        ? line === 'answer t'
          ? 'replica'
          : 'primary'
        : line.slice(7).split('\x1f')[0];
    return { state: 'answer', value };
  }
  if (line === 'down' || DOWN_TEXT.test(error ?? '')) return { state: 'down', error };
  return { state: 'error', error: error ?? `exit ${r.exitCode}` };
}
