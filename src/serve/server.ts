// `drillbook serve`'s HTTP server (fastify): health, metrics, the Alertmanager receiver and the
// Slack interactivity endpoint. Bodies are read as text first: signatures cover the raw bytes.
import Fastify, { type FastifyInstance } from 'fastify';
import type { RunEmitter } from '../engine/events.js';
import type { Inventory } from '../schema/inventory.js';
import type { Output } from '../system/output.js';
import { alertClaimsFor } from './alert-claims.js';
import {
  alertAuthRefusal,
  alertRecorder,
  handleAlerts,
  type AlertHookContext,
  type HookAnswer,
} from './alert-hook.js';
import { warnRun } from './alert-runs.js';
import { serveMetrics } from './metrics.js';
import { handleSlackAction } from './slack-actions.js';
import type { LoadedTriggers } from './triggers.js';
import { webUi } from './ui/routes.js';

export interface ServerOptions {
  triggers: LoadedTriggers;
  inventory: { data: Inventory; file: string };
  stateDir: string;
  reportsDir?: string;
  /** The receiver's bearer token and HMAC secret, resolved. */
  token: string;
  hmacSecret?: string;
  signingSecrets: readonly string[];
  /** serve's id in claims (host:pid:random). */
  server: string;
  io: Output;
  https?: { cert: Buffer; key: Buffer };
}

export interface Serve {
  app: FastifyInstance;
  running: AlertHookContext['running'];
  /** Each run in progress's event stream (for a live view to subscribe to). */
  live: Map<string, RunEmitter>;
  /** Aborting it stops the runs in progress resumably. */
  stop: AbortController;
  close(): Promise<void>;
}

/** Alertmanager sends a few KB; a megabyte leaves room without inviting abuse. */
const BODY_LIMIT = 1024 * 1024;

export function buildServer(o: ServerOptions): Serve {
  const app = Fastify({ bodyLimit: BODY_LIMIT, ...(o.https ? { https: o.https } : {}) });
  const asText = (_req: unknown, body: string, done: (err: null, body: string) => void) => done(null, body);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, asText);
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, asText);
  const metrics = serveMetrics();
  const stop = new AbortController();
  const claims = alertClaimsFor(o.stateDir, o.server);
  const live = new Map<string, RunEmitter>();
  const ctx: AlertHookContext = {
    triggers: o.triggers,
    inventory: o.inventory.data,
    inventoryFile: o.inventory.file,
    stateDir: o.stateDir,
    reportsDir: o.reportsDir,
    token: o.token,
    hmacSecret: o.hmacSecret,
    claims,
    running: new Map(),
    record: alertRecorder(o.stateDir, o.io),
    metrics,
    io: o.io,
    stop: stop.signal,
    live,
  };
  const send = (reply: { code(n: number): { send(b: unknown): unknown } }, a: HookAnswer) =>
    reply.code(a.status).send(a.body);
  const text = (body: unknown) => (typeof body === 'string' ? body : '');

  app.get('/healthz', async () => ({ ok: true, running: ctx.running.size }));
  app.get('/metrics', async (_req, reply) =>
    reply.type('text/plain; version=0.0.4; charset=utf-8').send(metrics.text()),
  );
  app.post('/hooks/alertmanager', async (req, reply) => {
    const body = text(req.body);
    const refused = alertAuthRefusal(ctx, req.headers, body);
    if (refused) {
      metrics.alertOutcome('unauthenticated');
      return send(reply, { status: 401, body: { error: refused } });
    }
    return send(reply, await handleAlerts(ctx, body));
  });
  app.post('/hooks/slack/actions', async (req, reply) =>
    send(
      reply,
      handleSlackAction(
        {
          stateDir: o.stateDir,
          inventory: o.inventory.data,
          signingSecrets: o.signingSecrets,
          metrics,
          io: o.io,
          noteToRun: (runId, message) => warnRun(ctx, runId, message),
        },
        req.headers,
        text(req.body),
      ),
    ),
  );
  // The web UI at / (when the triggers file has `ui`): its approvals decide as a Slack click does.
  void app.register(webUi, {
    triggers: o.triggers,
    inventory: o.inventory.data,
    stateDir: o.stateDir,
    reportsDir: o.reportsDir,
    live,
    metrics,
    io: o.io,
    secure: Boolean(o.https),
    noteToRun: (runId, message) => warnRun(ctx, runId, message),
  });
  return {
    app,
    running: ctx.running,
    live,
    stop,
    async close() {
      await app.close();
      await claims.close();
    },
  };
}
