// HAProxy in TCP mode: one write frontend routed to the primary, with an admin runtime API socket.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StepFailure } from '../errors.js';
import type { LabNode } from './config.js';
import type { LabContext } from './context.js';
import { patroniHaproxyServers } from './patroni.js';
import { portAnswers } from '../system/ports.js';
import { isLabProcess, logTail, spawnDetached, waitFor } from '../system/processes.js';

export const HAPROXY = 'haproxy';
export const HAPROXY_BACKEND = 'pg';
export const HAPROXY_SERVER = 'primary';

export async function ensureHaproxy(ctx: LabContext, primary: LabNode): Promise<void> {
  const existing = ctx.state.components[HAPROXY];
  if (existing && isLabProcess(existing.pid, ctx.paths.dir)) {
    ctx.report('haproxy: already running');
    return;
  }
  mkdirSync(ctx.paths.haproxy, { recursive: true, mode: 0o700 });
  const config = join(ctx.paths.haproxy, 'haproxy.cfg');
  const log = join(ctx.paths.logs, 'haproxy.log');
  const listen = { host: ctx.config.serviceHost, port: ctx.config.routerPort };
  writeFileSync(config, haproxyConfig(ctx, primary), { mode: 0o600 });
  // -db: stay in the foreground as our own detached child, so the PID we track is the proxy itself.
  const pid = spawnDetached(ctx.tools.haproxy, ['-db', '-f', config], { logFile: log });
  ctx.record(HAPROXY, { kind: 'haproxy', pid, listen: [listen], created: true });
  if (
    !(await waitFor(() => isLabProcess(pid, ctx.paths.dir) && portAnswers(listen.host, listen.port), 10_000))
  ) {
    throw new StepFailure(
      `haproxy did not start listening on ${listen.host}:${listen.port}:\n${logTail(log)}`,
      { stepId: 'lab' },
    );
  }
  ctx.report(
    existing
      ? `haproxy: restarted (pid ${pid})`
      : `haproxy: ${listen.host}:${listen.port} -> ${primary.name} (${primary.host}:${primary.port}), runtime API ${ctx.paths.haproxySocket}`,
  );
}

function haproxyConfig(ctx: LabContext, primary: LabNode): string {
  return `# Written by drillbook lab. The failover work moves the server with the runtime API.
global
  stats socket ${ctx.paths.haproxySocket} mode 600 level admin
  maxconn 512

defaults
  mode tcp
  # Routing that fails fast (README): a new client never waits on a dead or fenced server.
  # No connection retries inside HAProxy: each retry first waits min(timeout connect, 1s) on the
  # same dead server, which held new clients 3 s; the client's own reconnect is the retry.
  retries 0
  # A blackholed server holds a new client at most this long (one connect attempt).
  timeout connect 1s
  timeout client 1h
  timeout server 1h
  # Checks every 500 ms, every 100 ms once one fails (DOWN after 2) and while DOWN, so a switched
  # route is UP again within about 0.1 s. observe layer4: the first failed client connection marks
  # the server DOWN at once, so the next clients are refused instantly instead of trying it too.
  # on-marked-down shutdown-sessions: sessions left on a server marked DOWN are closed, not hung.
  default-server inter 500ms fastinter 100ms downinter 100ms fall 2 rise 1 observe layer4 error-limit 1 on-error mark-down on-marked-down shutdown-sessions init-addr last,libc,none

frontend pg_write
  bind ${ctx.config.serviceHost}:${ctx.config.routerPort}
  default_backend ${HAPROXY_BACKEND}

backend ${HAPROXY_BACKEND}
${ctx.config.patroni ? patroniHaproxyServers(ctx.config) : `  server ${HAPROXY_SERVER} ${primary.host}:${primary.port} check`}
`;
}
