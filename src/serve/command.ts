// `drillbook serve` behind the thin CLI module: loads the triggers and the inventory, resolves the
// receiver's secrets, listens (loopback unless given TLS), and stops on SIGTERM or SIGINT as
// --on-stop says: `finish` lets the runs in progress end, `interrupt` stops them resumably at once;
// a second signal always stops them.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Redactor } from '../connectors/redact.js';
import { ExitCode, UserError } from '../errors.js';
import { loadInventory } from '../runbook/check.js';
import { defaultInventoryPath } from '../runbook/prepare.js';
import { daemonId } from '../schedule/claims.js';
import type { Output } from '../system/output.js';
import { stateDirOf } from '../system/run-paths.js';
import { buildServer, type Serve } from './server.js';
import { loadTriggers } from './triggers.js';

export type ServeStopMode = 'finish' | 'interrupt';

export interface ServeOptions {
  listen?: string;
  triggersFile: string;
  inventoryFile?: string;
  stateDir?: string;
  /** Where run reports go (default reports/ under the working directory). */
  reportsDir?: string;
  tlsCert?: string;
  tlsKey?: string;
  onStop?: ServeStopMode;
}

export const DEFAULT_LISTEN = '127.0.0.1:8470';

const isLoopback = (host: string) =>
  host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(listen);
  const port = Number(m?.[3]);
  if (!m || port > 65535)
    throw new UserError(`--listen must be HOST:PORT such as ${DEFAULT_LISTEN} (got "${listen}")`);
  return { host: m[1] ?? m[2]!, port };
}

/** Builds and starts the server; returns it with the URL it listens on. */
export async function startServe(o: ServeOptions, io: Output): Promise<Serve & { url: string }> {
  const { host, port } = parseListen(o.listen ?? DEFAULT_LISTEN);
  if (!isLoopback(host) && !(o.tlsCert && o.tlsKey))
    throw new UserError(
      `--listen ${host} is not loopback: give --tls-cert and --tls-key to serve beyond this machine`,
    );
  if (Boolean(o.tlsCert) !== Boolean(o.tlsKey)) throw new UserError('--tls-cert and --tls-key go together');
  const triggers = loadTriggers(o.triggersFile);
  const inventory = loadInventory(defaultInventoryPath(o.inventoryFile ?? triggers.inventory));
  const stateDir = stateDirOf(o.stateDir);
  // Through a redactor: a secret too short to redact reliably (an empty variable) is refused.
  const redactor = new Redactor();
  const secret = (ref: string) => redactor.resolve(ref);
  const signingSecrets = await Promise.all(
    Object.values(inventory.data.environments).flatMap((e) =>
      e.slack?.signingSecret ? [secret(e.slack.signingSecret)] : [],
    ),
  );
  const https =
    o.tlsCert && o.tlsKey ? { cert: readFileSync(o.tlsCert), key: readFileSync(o.tlsKey) } : undefined;
  const serve = buildServer({
    triggers,
    inventory,
    stateDir,
    reportsDir: o.reportsDir,
    token: await secret(triggers.data.receiver.token),
    hmacSecret: triggers.data.receiver.hmacSecret
      ? await secret(triggers.data.receiver.hmacSecret)
      : undefined,
    signingSecrets,
    server: daemonId(),
    io,
    https,
  });
  // A run's first Slack post, SQL and SSH load these modules: loading them mid-request would block
  // every webhook in flight for a few hundred milliseconds, so they are loaded before listening.
  await Promise.all([import('@slack/web-api'), import('pg'), import('node-ssh')]);
  await serve.app.listen({ host, port });
  const address = serve.app.server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  const url = `${https ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${bound}`;
  const local = Object.values(inventory.data.environments).some((e) => !e.coordination);
  io.out(JSON.stringify({ event: 'listening', url, stateDir }));
  if (local)
    io.out(
      JSON.stringify({
        event: 'notice',
        message: `environments without a coordination database deduplicate alerts in ${stateDir} only: run one serve per machine for them`,
      }),
    );
  return { ...serve, url };
}

/** Stops accepting requests, then lets the runs end (`finish`) or stops them resumably. */
export async function stopServe(serve: Serve, mode: ServeStopMode): Promise<void> {
  await serve.app.close();
  if (mode === 'interrupt') serve.stop.abort();
  await Promise.all([...serve.running.values()].map((r) => r.done));
  await serve.close();
}

export async function serveCommand(o: ServeOptions, io: Output): Promise<number> {
  const serve = await startServe(o, io);
  await new Promise<void>((resolveStop) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      io.out(
        JSON.stringify({ event: 'stop', message: `${signal} received`, running: [...serve.running.keys()] }),
      );
      if (signals === 1) {
        void stopServe(serve, o.onStop ?? 'interrupt').then(() => {
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
          resolveStop();
        });
      } else serve.stop.abort(); // a second signal: the runs stop now, resumable
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  return ExitCode.ok;
}
