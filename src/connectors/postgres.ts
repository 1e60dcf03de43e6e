// PostgreSQL connections for actions and the run lock. pg is loaded on first use, so the modules
// that import this file (every action, through the registry) stay light for `validate`.
import type { Client } from 'pg';
import { StepFailure, UserError, errorMessage } from '../errors.js';
import type { Environment } from '../schema/inventory.js';
import { resolveNode } from '../schema/inventory.js';

export interface PgEndpoint {
  host: string;
  port: number;
  database: string;
  user: string;
  /** A secret reference (env:NAME, file:PATH), resolved through `secret`. */
  password?: string;
}

export interface PgConnectOptions {
  /** Aborting closes the connection (a query in flight fails at once). */
  signal?: AbortSignal;
  connectTimeoutMs?: number;
  /** Resolves secret references and registers the value for redaction (ActionContext.secret). */
  secret(ref: string): Promise<string>;
  /** Shown in pg_stat_activity (the run lock uses it to tell who holds the lock). */
  applicationName?: string;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** The endpoint of an inventory node (`primary` resolves to the environment's primary). */
export function nodeEndpoint(env: Environment, nodeName: string, database?: string): PgEndpoint {
  const name = resolveNode(env, nodeName);
  const node = env.postgres.nodes[name];
  if (!node) throw new UserError(`no PostgreSQL node "${name}" in the environment`);
  return {
    host: node.host,
    port: node.port,
    database: database ?? env.postgres.database,
    user: env.postgres.user,
    password: env.postgres.password,
  };
}

export async function connectPostgres(endpoint: PgEndpoint, options: PgConnectOptions): Promise<Client> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({
    host: endpoint.host,
    port: endpoint.port,
    database: endpoint.database,
    user: endpoint.user,
    password: endpoint.password ? await options.secret(endpoint.password) : undefined,
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    application_name: options.applicationName ?? 'drillbook',
  });
  // A connection that breaks while idle must not crash the process; the next query reports it.
  client.on('error', () => undefined);
  const abort = () => void client.end().catch(() => undefined);
  options.signal?.addEventListener('abort', abort, { once: true });
  client.once('end', () => options.signal?.removeEventListener('abort', abort));
  try {
    if (options.signal?.aborted) throw options.signal.reason;
    await client.connect();
    return client;
  } catch (err) {
    abort();
    throw pgFailure(err, `cannot connect to ${endpoint.host}:${endpoint.port}/${endpoint.database}`);
  }
}

/** Connects to an inventory node, e.g. `connectNode(env, 'primary', { signal, secret })`. */
export const connectNode = (
  env: Environment,
  nodeName: string,
  options: PgConnectOptions & { database?: string },
) => connectPostgres(nodeEndpoint(env, nodeName, options.database), options);

/** Runs `fn` on a connection to a node and always closes it. */
export async function withNode<T>(
  env: Environment,
  nodeName: string,
  options: PgConnectOptions & { database?: string },
  fn: (client: Client) => Promise<T>,
): Promise<T> {
  const client = await connectNode(env, nodeName, options);
  try {
    return await fn(client);
  } catch (err) {
    throw pgFailure(err, `on ${resolveNode(env, nodeName)}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** SQLSTATE classes worth another attempt: connection exceptions, shutdown, too many connections. */
const RETRYABLE_SQLSTATE = /^(08|57P0[123]|53300|40001|40P01)/;
const RETRYABLE_NET = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/** A pg error as a step failure: connection problems are retryable, SQL errors are not. */
export function pgFailure(err: unknown, what: string): StepFailure | UserError {
  if (err instanceof StepFailure || err instanceof UserError) return err;
  const code = (err as { code?: string }).code ?? '';
  const message = errorMessage(err);
  const retryable =
    RETRYABLE_SQLSTATE.test(code) || RETRYABLE_NET.has(code) || /timeout|terminated/i.test(message);
  return new StepFailure(`${what}: ${message}${/^[0-9A-Z]{5}$/.test(code) ? ` (SQLSTATE ${code})` : ''}`, {
    retryable,
    ...(code && { code }),
    cause: err,
  });
}
