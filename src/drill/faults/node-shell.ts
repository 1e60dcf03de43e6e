// Commands on the host of an inventory node: over SSH when the node names an SSH host (as on a real
// network), else on this machine. The session is opened first so that the instant a fault takes
// effect is measured after the connection cost, not before it.
import { spawn } from 'node:child_process';
import type { EnvContext } from '../../actions/types.js';
import { POSTMASTER_SH } from '../../connectors/postmaster.js';
import { shq } from '../../connectors/shell-quote.js';
import { childEnv } from '../../system/child-env.js';
import { sshConnect } from '../../connectors/ssh.js';
import { StepFailure, UserError } from '../../errors.js';
import type { PostgresNode } from '../../schema/inventory.js';
import type { FaultContext } from './types.js';

export interface ShellResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

export interface NodeShell {
  where: string;
  exec(command: string): Promise<ShellResult>;
  close(): void;
}

export function nodeOf(env: EnvContext, name: string): PostgresNode {
  const node = env.postgres.nodes[name];
  if (!node) throw new UserError(`no PostgreSQL node "${name}" in environment ${env.name}`);
  return node;
}

export function dataDirOf(env: EnvContext, name: string): string {
  const dir = nodeOf(env, name).dataDir;
  if (!dir) throw new UserError(`node ${name} has no dataDir in the inventory; the fault needs it`);
  return dir;
}

export async function openNodeShell(ctx: FaultContext): Promise<NodeShell> {
  const host = nodeOf(ctx.env, ctx.node).ssh;
  if (host) {
    const ssh = await sshConnect(ctx.env, host, {
      signal: ctx.signal,
      secret: ctx.secret,
      readyTimeoutMs: 5000,
    });
    return {
      where: `ssh:${host}`,
      exec: async (command) => {
        const r = await ssh.execCommand(command);
        return { exitCode: r.code, stdout: r.stdout, stderr: r.stderr };
      },
      close: () => ssh.dispose(),
    };
  }
  return { where: 'local', exec: localExec, close: () => undefined };
}

export function localExec(command: string): Promise<ShellResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ exitCode, stdout, stderr }));
  });
}

/** Runs one command, failing the drill with its output when it exits non-zero. */
export async function mustRun(shell: NodeShell, command: string, what: string): Promise<ShellResult> {
  const r = await shell.exec(command);
  if (r.exitCode !== 0) {
    throw new StepFailure(
      `${what} (${shell.where}) failed with exit code ${r.exitCode}: ${(r.stderr || r.stdout).trim()}`,
    );
  }
  return r;
}

/** Runs `fn` with a shell on the node's host, always closed afterwards. */
export async function withNodeShell<T>(ctx: FaultContext, fn: (shell: NodeShell) => Promise<T>): Promise<T> {
  const shell = await openNodeShell(ctx);
  try {
    return await fn(shell);
  } finally {
    shell.close();
  }
}

/**
 * Shell snippet: the live postmaster's PID, from postmaster.pid (never found by process name); fails
 * when none runs (a stale pid file, a zombie or a recycled PID is not a running server).
 */
export const postmasterPid = (dataDir: string) => `${POSTMASTER_SH}\npg_live ${shq(dataDir)}`;
