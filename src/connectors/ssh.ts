// SSH to inventory hosts with node-ssh (loaded on first use). Host keys are checked against the
// host's pinned known_hosts; a host without an entry or with another key is refused, never trusted.
import type { NodeSSH } from 'node-ssh';
import { StepFailure, UserError, errorMessage } from '../errors.js';
import type { Environment, SshHost } from '../schema/inventory.js';
import { knownHostsName, knownHostsVerifier } from './known-hosts.js';
import { expandHome } from './secrets.js';

export interface SshOptions {
  /** Aborting closes the connection (the remote command gets no more input or output). */
  signal?: AbortSignal;
  /** Resolves the private key reference and registers it for redaction (ActionContext.secret). */
  secret(ref: string): Promise<string>;
  readyTimeoutMs?: number;
}

export interface SshResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export const DEFAULT_SSH_READY_TIMEOUT_MS = 10_000;

export function sshHost(env: Environment, name: string): SshHost {
  const host = env.ssh?.[name];
  if (!host) throw new UserError(`no SSH host "${name}" in the environment`);
  return host;
}

/** A connected session to an inventory SSH host; dispose() it when done (sshExec does). */
export async function sshConnect(env: Environment, name: string, options: SshOptions): Promise<NodeSSH> {
  const host = sshHost(env, name);
  const port = host.port ?? 22;
  const verify = knownHostsVerifier(expandHome(host.knownHosts), host.host, port);
  let refusedKey = false;
  const { NodeSSH } = await import('node-ssh');
  const ssh = new NodeSSH();
  const abort = () => ssh.dispose();
  options.signal?.addEventListener('abort', abort, { once: true });
  try {
    if (options.signal?.aborted) throw options.signal.reason;
    await ssh.connect({
      host: host.host,
      port,
      username: host.user,
      privateKey: await options.secret(host.privateKey),
      readyTimeout: options.readyTimeoutMs ?? DEFAULT_SSH_READY_TIMEOUT_MS,
      hostVerifier: (key: Buffer) => {
        refusedKey = !verify(key);
        return !refusedKey;
      },
    });
    return ssh;
  } catch (err) {
    ssh.dispose();
    options.signal?.removeEventListener('abort', abort);
    if (err instanceof StepFailure || err instanceof UserError) throw err;
    if (refusedKey) {
      throw new StepFailure(
        `host key of ${name} (${knownHostsName(host.host, port)}) does not match ${host.knownHosts}: refusing to connect`,
      );
    }
    const code = (err as { code?: string; level?: string }).code;
    // Network trouble may pass; authentication and protocol failures will not.
    const retryable =
      ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH'].includes(code ?? '') ||
      /timed out/i.test(errorMessage(err));
    throw new StepFailure(`ssh ${name} (${knownHostsName(host.host, port)}): ${errorMessage(err)}`, {
      retryable,
      ...(code && { code }),
      cause: err,
    });
  }
}

/** Runs one command on an inventory SSH host and closes the session. */
export async function sshExec(
  env: Environment,
  name: string,
  command: string,
  options: SshOptions & { stdin?: string },
): Promise<SshResult> {
  const ssh = await sshConnect(env, name, options);
  try {
    const r = await ssh.execCommand(command, { stdin: options.stdin });
    if (options.signal?.aborted) throw options.signal.reason;
    return { exitCode: r.code, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
  } finally {
    ssh.dispose();
  }
}
