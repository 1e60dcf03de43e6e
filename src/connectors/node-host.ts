// PostgreSQL's own tools (pg_ctl, pg_rewind, psql, pg_isready) run on a node's host over SSH, as
// the node's OS user. Secrets travel on the remote command's stdin, never on its command line.
import { StepFailure, UserError } from '../errors.js';
import { resolveNode, type EnvContext, type PostgresNode } from '../schema/inventory.js';
import { shq } from './shell-quote.js';
import { sshExec, sshHost, type SshResult } from './ssh.js';

/** What running a command on a host needs from the step that runs it (ActionContext is one). */
export interface RemoteContext {
  env: EnvContext;
  /** Aborting closes the SSH session. */
  signal: AbortSignal;
  /** Resolves the SSH key reference and registers it for redaction. */
  secret(ref: string): Promise<string>;
}

export interface NodeHost {
  /** The node's inventory name (`primary` resolved). */
  name: string;
  node: PostgresNode;
  /** The SSH host that runs it. */
  ssh: string;
  dataDir: string;
  /** The path of a PostgreSQL tool on that host (binDir, else the PATH). */
  tool(name: string): string;
}

/** Where and how a node runs; a missing ssh or dataDir in the inventory is bad input. */
export function nodeHost(env: EnvContext, nodeName: string, purpose: string): NodeHost {
  const name = resolveNode(env, nodeName);
  const node = env.postgres.nodes[name];
  if (!node) throw new UserError(`no PostgreSQL node "${name}" in environment ${env.name}`);
  if (!node.ssh || !node.dataDir) {
    throw new UserError(`${purpose} needs ssh and dataDir for node ${name} in the inventory of ${env.name}`);
  }
  const binDir = node.binDir;
  return {
    name,
    node,
    ssh: node.ssh,
    dataDir: node.dataDir,
    tool: (tool) => shq(binDir ? `${binDir}/${tool}` : tool),
  };
}

/** The binDir of a node that runs on an SSH host, to find pg_isready and psql there. */
export function binDirOn(env: EnvContext, ssh: string): string | undefined {
  return Object.values(env.postgres.nodes).find((n) => n.ssh === ssh && n.binDir)?.binDir;
}

export interface RemoteOptions {
  stdin?: string;
  /** Exit codes that are answers, not failures (pg_ctl status: 3 = not running). */
  okExitCodes?: number[];
  readyTimeoutMs?: number;
  /** Run as this user when the SSH login is another one (sudo -n). */
  asUser?: string;
}

/**
 * Runs a shell script on an SSH host. A non-zero exit (other than okExitCodes) is a StepFailure
 * naming the host, what was being done and the last lines of stderr.
 */
export async function runRemote(
  ctx: RemoteContext,
  ssh: string,
  what: string,
  script: string,
  options: RemoteOptions = {},
): Promise<SshResult> {
  const login = sshHost(ctx.env, ssh).user;
  const sudo = options.asUser && options.asUser !== login ? `sudo -n -u ${shq(options.asUser)} -- ` : '';
  const r = await sshExec(ctx.env, ssh, `${sudo}sh -c ${shq(script)}`, {
    signal: ctx.signal,
    secret: ctx.secret,
    stdin: options.stdin,
    readyTimeoutMs: options.readyTimeoutMs,
  });
  if (r.exitCode === 0 || (r.exitCode !== null && options.okExitCodes?.includes(r.exitCode))) return r;
  const why = r.exitCode === null ? `killed by ${r.signal}` : `exit ${r.exitCode}`;
  const tail = (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ');
  throw new StepFailure(`${ssh}: ${what} failed (${why})${tail ? `: ${tail}` : ''}`);
}

/** runRemote as the node's OS user on its host. */
export const runOnNode = (
  ctx: RemoteContext,
  host: NodeHost,
  what: string,
  script: string,
  options: Omit<RemoteOptions, 'asUser'> = {},
) => runRemote(ctx, host.ssh, `${what} on ${host.name}`, script, { ...options, asUser: host.node.osUser });

/**
 * Starts the node with pg_ctl; its output goes to the log the lab layout uses (next to the data
 * directory) when present, else into the data directory, so the SSH session does not stay open.
 */
export function pgCtlStartScript(host: NodeHost): string {
  const d = shq(host.dataDir);
  return [
    `log=$(dirname ${d})/postgres.log; [ -w "$log" ] || log=${d}/drillbook-start.log`,
    `${host.tool('pg_ctl')} start -D ${d} -l "$log" -w -t 60 >/dev/null`,
  ].join('\n');
}
