// The web UI's routes on serve's fastify instance (registered only when the triggers file has `ui`):
// sign-in here; the runs, history, schedule and reports (list-routes.ts); a run's page, its live
// events and its approvals (run-routes.ts). Every route but sign-in needs a session.
import { resolve } from 'node:path';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RunEmitter } from '../../engine/events.js';
import { Redactor } from '../../connectors/redact.js';
import { DEFAULT_REPORTS_DIR } from '../../system/run-paths.js';
import type { SlackActionsContext } from '../slack-actions.js';
import type { LoadedTriggers } from '../triggers.js';
import { sessions, type Sessions, type WebUser } from './auth.js';
import type { OpenStreams } from './events-stream.js';
import { page } from './layout.js';
import { listRoutes } from './list-routes.js';
import { loginPage } from './pages.js';
import { runRoutes } from './run-routes.js';
import { runIndex, type RunIndex } from './runs.js';

export interface WebUiOptions extends Omit<SlackActionsContext, 'signingSecrets'> {
  triggers: LoadedTriggers;
  reportsDir?: string;
  live: Map<string, RunEmitter>;
  /** Whether serve speaks TLS (the session cookie is then Secure). */
  secure: boolean;
}

/** What every route of the UI shares. */
export interface UiContext {
  o: WebUiOptions;
  auth: Sessions;
  reportsDir: string;
  /** The signed-in user, or undefined with the answer sent (pages go to sign-in, the rest get 401). */
  signedIn(req: FastifyRequest, reply: FastifyReply): WebUser | undefined;
  /** The run event streams open now. */
  open: OpenStreams;
  runs: RunIndex;
}

/** Sign-in attempts per client address and minute; the next gets 429 with Retry-After. */
export const SIGN_IN_LIMIT = { max: 10, timeWindow: 60_000 };

export async function webUi(app: FastifyInstance, o: WebUiOptions): Promise<void> {
  const ui = o.triggers.data.ui;
  if (!ui) return;
  const redactor = new Redactor();
  const users = await Promise.all(
    ui.users.map(async (u) => ({ ...u, token: await redactor.resolve(u.token) })),
  );
  const auth = sessions(users, o.secure);
  const c: UiContext = {
    o,
    auth,
    reportsDir: resolve(o.reportsDir ?? DEFAULT_REPORTS_DIR),
    open: new Set(),
    runs: runIndex(o.stateDir),
    signedIn(req, reply) {
      const user = auth.userOf(req.headers.cookie);
      if (user) return user;
      if (req.method === 'GET' && req.headers.accept?.includes('text/html'))
        void reply.redirect('/login', 303);
      else void reply.code(401).send({ error: 'sign in to the web UI first' });
      return undefined;
    },
  };
  app.addHook('preClose', async () => [...c.open].forEach((end) => end()));
  app.addHook('onSend', async (_req, reply) => {
    reply.header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
  });

  // Only sign-in is limited: a token guessed at a few tries a minute per address is no guess at all.
  await app.register(rateLimit, { global: false });
  app.get('/login', async (_req, reply) => page(reply, loginPage()));
  const throttled = (req: FastifyRequest) =>
    o.io.out(JSON.stringify({ event: 'web-sign-in', outcome: 'throttled', from: req.ip }));
  app.post(
    '/login',
    { config: { rateLimit: { ...SIGN_IN_LIMIT, onExceeded: throttled } } },
    async (req, reply) => {
      const token = new URLSearchParams(typeof req.body === 'string' ? req.body : '').get('token') ?? '';
      const user = auth.signIn(token);
      if (!user) {
        o.io.out(JSON.stringify({ event: 'web-sign-in', outcome: 'refused', from: req.ip }));
        return page(reply, loginPage('That token is not one of the web UI users’.'), 401);
      }
      o.io.out(JSON.stringify({ event: 'web-sign-in', outcome: 'ok', user: user.id, from: req.ip }));
      return reply.header('set-cookie', auth.cookieFor(user)).redirect('/', 303);
    },
  );
  app.post('/logout', async (_req, reply) =>
    reply.header('set-cookie', auth.signOut).redirect('/login', 303),
  );
  listRoutes(app, c);
  runRoutes(app, c);
}
