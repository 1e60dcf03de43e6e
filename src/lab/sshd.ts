// One OpenSSH server listening on every node address: a partition of a node address cuts its SSH too.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StepFailure } from '../errors.js';
import { type LabContext } from './context.js';
import { run } from '../system/exec.js';
import { isRoot } from '../system/os-user.js';
import { portAnswers } from '../system/ports.js';
import { isLabProcess, logTail, spawnDetached, waitFor } from '../system/processes.js';
import { SSH_CLIENT_KEY_FILE } from './secrets.js';
import type { ComponentState } from './state.js';

export const SSHD = 'sshd';

export interface SshFiles {
  config: string;
  hostKey: string;
  authorizedKeys: string;
  knownHosts: string;
  clientKey: string;
  log: string;
}

export function sshFiles(ctx: Pick<LabContext, 'paths'>): SshFiles {
  const dir = ctx.paths.ssh;
  return {
    config: join(dir, 'sshd_config'),
    hostKey: join(dir, 'host_ed25519_key'),
    authorizedKeys: join(dir, 'authorized_keys'),
    knownHosts: join(dir, 'known_hosts'),
    clientKey: join(ctx.paths.secrets, SSH_CLIENT_KEY_FILE),
    log: join(ctx.paths.logs, 'sshd.log'),
  };
}

export async function ensureSshd(ctx: LabContext): Promise<void> {
  const files = sshFiles(ctx);
  const listen = ctx.config.nodes.map((n) => ({ host: n.host, port: ctx.config.sshPort }));
  const existing = ctx.state.components[SSHD];
  if (existing && isLabProcess(existing.pid, ctx.paths.dir)) {
    ctx.report('sshd: already running');
    return;
  }
  mkdirSync(ctx.paths.ssh, { recursive: true, mode: 0o755 });
  await generateKey(ctx, files.hostKey, 'drillbook-lab-host');
  await generateKey(ctx, files.clientKey, 'drillbook-lab-client');
  // Read by sshd as the logging-in user, so world-readable (it holds only a public key).
  writeFileSync(files.authorizedKeys, readFileSync(`${files.clientKey}.pub`), { mode: 0o644 });
  const hostPublic = readFileSync(`${files.hostKey}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
  writeFileSync(files.knownHosts, listen.map((l) => `[${l.host}]:${l.port} ${hostPublic}\n`).join(''), {
    mode: 0o644,
  });
  writeFileSync(files.config, sshdConfig(ctx, files, listen), { mode: 0o600 });
  // Privilege separation needs this directory when sshd starts as root.
  if (isRoot()) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const pid = spawnDetached(ctx.tools.sshd, ['-D', '-e', '-f', files.config], { logFile: files.log });
  ctx.record(SSHD, componentState(pid, listen, true));
  const up = () =>
    isLabProcess(pid, ctx.paths.dir) &&
    Promise.all(listen.map((l) => portAnswers(l.host, l.port))).then((a) => a.every(Boolean));
  if (!(await waitFor(up, 10_000))) {
    throw new StepFailure(
      `sshd did not start listening on ${listen.map((l) => `${l.host}:${l.port}`).join(', ')}:\n${logTail(files.log)}`,
      { stepId: 'lab' },
    );
  }
  ctx.report(
    existing
      ? `sshd: restarted (pid ${pid})`
      : `sshd: listening on port ${ctx.config.sshPort} of every node address (user ${ctx.serviceUser.name})`,
  );
}

function componentState(pid: number, listen: ComponentState['listen'], created: boolean): ComponentState {
  return { kind: 'sshd', pid, listen, created };
}

async function generateKey(ctx: LabContext, file: string, comment: string): Promise<void> {
  if (existsSync(file)) return;
  await run(ctx.tools.sshKeygen, ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
}

function sshdConfig(ctx: LabContext, files: SshFiles, listen: ComponentState['listen']): string {
  return (
    [
      '# Written by drillbook lab.',
      ...listen.map((l) => `ListenAddress ${l.host}:${l.port}`),
      `HostKey ${files.hostKey}`,
      `AuthorizedKeysFile ${files.authorizedKeys}`,
      'PidFile none',
      'StrictModes no',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      // As root, PAM lets in the `postgres` account, whose password is locked ("!") on Debian.
      `UsePAM ${isRoot() ? 'yes' : 'no'}`,
      `AllowUsers ${ctx.serviceUser.name}`,
      'PermitRootLogin no',
      'X11Forwarding no',
      'PrintMotd no',
      'Subsystem sftp internal-sftp',
    ].join('\n') + '\n'
  );
}
