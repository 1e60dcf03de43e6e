// HAProxy runtime API client over its admin Unix socket: one command per connection (the API's
// non-interactive mode closes the connection after answering), so no prompt parsing is needed.
import { connect } from 'node:net';
import { StepFailure, UserError, errorMessage } from '../errors.js';
import type { Environment, HaproxyRouter } from '../schema/inventory.js';

/** `srv_op_state` of `show servers state` (HAProxy's SRV_ST_* values). */
export type OperationalState = 'down' | 'starting' | 'up' | 'stopping';
/** The administrative state a runtime command can set: maintenance wins over drain. */
export type AdminState = 'ready' | 'drain' | 'maint';

export interface ServerState {
  backend: string;
  server: string;
  addr: string;
  port: number;
  operational: OperationalState;
  admin: AdminState;
  /** Raw `srv_admin_state` bits (forced, inherited, DNS-resolution maintenance...), for diagnostics. */
  adminBits: number;
}

export interface HaproxyOptions {
  signal?: AbortSignal;
  /** Per command; the runtime API answers in milliseconds, so a slow answer means a stuck proxy. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5_000;
const OPERATIONAL: OperationalState[] = ['down', 'starting', 'up', 'stopping'];
// SRV_ADMF_* bits: any maintenance bit (forced, inherited, config, resolution, health-check) means MAINT.
const ADMIN_MAINT_BITS = 0x01 | 0x02 | 0x04 | 0x20 | 0x40;
const ADMIN_DRAIN_BITS = 0x08 | 0x10;

/** An inventory router by name; a missing one is bad input. */
export function inventoryRouter(env: Environment, name: string): HaproxyRouter {
  const router = env.routers?.[name];
  if (!router) {
    const known = Object.keys(env.routers ?? {});
    throw new UserError(
      `no router "${name}" in the environment${known.length ? ` (routers: ${known.join(', ')})` : ''}`,
    );
  }
  return router;
}

/** The runtime API of one HAProxy, addressed by its admin socket path. */
export class HaproxyRuntime {
  constructor(
    readonly socket: string,
    private readonly options: HaproxyOptions = {},
  ) {}

  /** Sends one command and returns the raw reply text. */
  command(line: string): Promise<string> {
    return sendCommand(this.socket, line, this.options);
  }

  async showServersState(backend: string): Promise<ServerState[]> {
    const reply = await this.command(`show servers state ${backend}`);
    if (!/^\d+\n#/.test(reply)) throw this.failure(`show servers state ${backend}`, reply);
    return parseServersState(reply);
  }

  /** `show info` as name -> value (Pid, Version, ...). */
  async showInfo(): Promise<Record<string, string>> {
    const reply = await this.command('show info');
    const pairs = reply
      .split('\n')
      .map((l) => /^([^:]+):\s*(.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null);
    if (!pairs.length) throw this.failure('show info', reply);
    return Object.fromEntries(pairs.map((m) => [m[1]!, m[2]!]));
  }

  /** The `show stat` rows (CSV, columns by header name) of one backend's servers. */
  async showStat(backend: string): Promise<Record<string, string>[]> {
    const reply = await this.command('show stat');
    const [header, ...rows] = reply.split('\n').filter((l) => l.trim());
    if (!header?.startsWith('# ')) throw this.failure('show stat', reply);
    const columns = header.slice(2).split(',');
    return rows
      .map((r) => Object.fromEntries(r.split(',').map((v, i) => [columns[i] ?? '', v])))
      .filter((r) => r.pxname === backend && r.svname !== 'BACKEND' && r.svname !== 'FRONTEND');
  }

  /** One server's state; a missing server is a failure naming the backend and slot. */
  async serverState(backend: string, server: string): Promise<ServerState> {
    const found = (await this.showServersState(backend)).find((s) => s.server === server);
    if (!found) {
      throw new StepFailure(`haproxy ${this.socket}: no server ${backend}/${server}`);
    }
    return found;
  }

  async setServerAddr(backend: string, server: string, addr: string, port: number): Promise<void> {
    const line = `set server ${backend}/${server} addr ${addr} port ${port}`;
    const reply = await this.command(line);
    // Success answers "IP changed from ..." / "no need to change the addr" or nothing at all.
    if (reply.trim() && !/changed|no need to change/i.test(reply)) throw this.failure(line, reply);
  }

  enableServer(backend: string, server: string): Promise<void> {
    return this.expectSilence(`enable server ${backend}/${server}`);
  }

  disableServer(backend: string, server: string): Promise<void> {
    return this.expectSilence(`disable server ${backend}/${server}`);
  }

  drainServer(backend: string, server: string): Promise<void> {
    return this.setServerState(backend, server, 'drain');
  }

  setServerState(backend: string, server: string, state: AdminState): Promise<void> {
    return this.expectSilence(`set server ${backend}/${server} state ${state}`);
  }

  /**
   * Closes the sessions open on a server slot. A new address only applies to new connections;
   * sessions still open to the old node could keep writing to it (split brain).
   */
  shutdownSessions(backend: string, server: string): Promise<void> {
    return this.expectSilence(`shutdown sessions server ${backend}/${server}`);
  }

  /** Admin commands answer nothing on success and a message on error. */
  private async expectSilence(line: string): Promise<void> {
    const reply = await this.command(line);
    if (reply.trim()) throw this.failure(line, reply);
  }

  private failure(line: string, reply: string): StepFailure {
    return new StepFailure(
      `haproxy ${this.socket}: "${line}" was refused: ${reply.trim() || '(empty reply)'}`,
    );
  }
}

function sendCommand(socket: string, line: string, options: HaproxyOptions): Promise<string> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const conn = connect(socket);
    const fail = (why: string, retryable: boolean, cause?: unknown) => {
      cleanup();
      conn.destroy();
      reject(new StepFailure(`haproxy ${socket}: "${line}": ${why}`, { retryable, cause }));
    };
    const onAbort = () => fail('aborted', false);
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`, true), timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    };
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    conn.on('connect', () => conn.write(`${line}\n`));
    conn.on('data', (chunk: Buffer) => chunks.push(chunk));
    conn.on('error', (err: NodeJS.ErrnoException) =>
      // A missing or refused socket may be HAProxy restarting; anything else is not worth retrying.
      fail(
        `cannot talk to the runtime API: ${errorMessage(err)}`,
        err.code === 'ECONNREFUSED' || err.code === 'ENOENT',
        err,
      ),
    );
    conn.on('end', () => {
      cleanup();
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/**
 * Parses `show servers state` (format version 1): a version line, a `#` header naming the
 * columns, then one line per server. Columns are read by header name, not position, so a newer
 * HAProxy that appends columns still parses.
 */
export function parseServersState(reply: string): ServerState[] {
  const lines = reply.split('\n').filter((l) => l.trim());
  const header = lines.find((l) => l.startsWith('#'));
  if (!header) return [];
  const columns = header.slice(1).trim().split(/\s+/);
  const at = (fields: string[], name: string) => fields[columns.indexOf(name)] ?? '';
  return lines
    .filter((l) => !l.startsWith('#') && /\s/.test(l.trim()))
    .map((l) => {
      const f = l.trim().split(/\s+/);
      const bits = Number(at(f, 'srv_admin_state'));
      return {
        backend: at(f, 'be_name'),
        server: at(f, 'srv_name'),
        addr: at(f, 'srv_addr'),
        port: Number(at(f, 'srv_port')),
        operational: OPERATIONAL[Number(at(f, 'srv_op_state'))] ?? 'down',
        admin: bits & ADMIN_MAINT_BITS ? 'maint' : bits & ADMIN_DRAIN_BITS ? 'drain' : 'ready',
        adminBits: bits,
      };
    });
}
