// The web UI's routes on serve's fastify instance (registered only when the triggers file has `ui`):
// sign-in, the runs, a run's page with its live events and its approvals, the history, the schedule,
// and the reports. Every route but sign-in needs a session; an approval also needs the CSRF token and
// goes through the same decision as a Slack click (allow-list, four eyes, single use).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { pendingApprovals } from '../../engine/approval-box.js';
import type { RunEmitter } from '../../engine/events.js';
import { Redactor } from '../../connectors/redact.js';
import { errorMessage } from '../../errors.js';
import { loadHistory } from '../../report/history.js';
import { checkScheduledFiles } from '../../schedule/drills.js';
import { DEFAULT_LIST_COUNT, listSchedules } from '../../schedule/list.js';
import { DEFAULT_REPORTS_DIR, checkRunId, journalPath } from '../../system/run-paths.js';
import { decideApproval, type SlackActionsContext } from '../slack-actions.js';
import type { LoadedTriggers } from '../triggers.js';
import { CSRF_HEADER, sessions, type WebUser } from './auth.js';
import { streamRun, type OpenStreams } from './events-stream.js';
import { REPORT_CSP, type Rendered } from './layout.js';
import { historyPage, loginPage, reportLink, runsPage, schedulePage } from './pages.js';
import { runPage } from './run-page.js';
import { listRuns, runSummary, type RunFilter } from './runs.js';

export interface WebUiOptions extends Omit<SlackActionsContext, 'signingSecrets'> {
  triggers: LoadedTriggers;
  reportsDir?: string;
  live: Map<string, RunEmitter>;
  /** Whether serve speaks TLS (the session cookie is then Secure). */
  secure: boolean;
}

const REPORT_FILES = new Set(['report.html', 'report.json', 'report.md']);
const REPORT_DIR = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const REPORT_TYPES: Record<string, string> = {
  'report.html': 'text/html; charset=utf-8',
  'report.json': 'application/json; charset=utf-8',
  'report.md': 'text/plain; charset=utf-8',
};

function page(reply: FastifyReply, p: Rendered, status = 200) {
  return reply
    .code(status)
    .header('content-security-policy', p.csp)
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(p.html);
}

const validRunId = (id: string) => {
  try {
    return checkRunId(id);
  } catch {
    return undefined;
  }
};

export async function webUi(app: FastifyInstance, o: WebUiOptions): Promise<void> {
  const ui = o.triggers.data.ui;
  if (!ui) return;
  const redactor = new Redactor();
  const users = await Promise.all(
    ui.users.map(async (u) => ({ ...u, token: await redactor.resolve(u.token) })),
  );
  const auth = sessions(users, o.secure);
  const reportsDir = resolve(o.reportsDir ?? DEFAULT_REPORTS_DIR);
  const open: OpenStreams = new Set();
  const userOf = (req: FastifyRequest) => auth.userOf(req.headers.cookie);
  app.addHook('preClose', async () => [...open].forEach((end) => end()));
  app.addHook('onSend', async (_req, reply) => {
    reply.header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
  });

  /** The signed-in user, or the answer for a request without a session (pages go to sign-in). */
  const signedIn = (req: FastifyRequest, reply: FastifyReply): WebUser | undefined => {
    const user = userOf(req);
    if (user) return user;
    if (req.method === 'GET' && req.headers.accept?.includes('text/html')) void reply.redirect('/login', 303);
    else void reply.code(401).send({ error: 'sign in to the web UI first' });
    return undefined;
  };

  app.get('/login', async (_req, reply) => page(reply, loginPage()));
  app.post('/login', async (req, reply) => {
    const token = new URLSearchParams(typeof req.body === 'string' ? req.body : '').get('token') ?? '';
    const user = auth.signIn(token);
    if (!user) {
      o.io.out(JSON.stringify({ event: 'web-sign-in', outcome: 'refused', from: req.ip }));
      return page(reply, loginPage('That token is not one of the web UI users’.'), 401);
    }
    o.io.out(JSON.stringify({ event: 'web-sign-in', outcome: 'ok', user: user.id, from: req.ip }));
    return reply.header('set-cookie', auth.cookieFor(user)).redirect('/', 303);
  });
  app.post('/logout', async (_req, reply) =>
    reply.header('set-cookie', auth.signOut).redirect('/login', 303),
  );

  app.get('/', async (req, reply) => {
    const user = signedIn(req, reply);
    if (!user) return reply;
    const q = req.query as Record<string, unknown>;
    const pick = (k: keyof RunFilter) => (typeof q[k] === 'string' && q[k] ? q[k] : undefined);
    const filter: RunFilter = {
      environment: pick('environment'),
      runbook: pick('runbook'),
      status: pick('status'),
      trigger: pick('trigger'),
    };
    const all = listRuns(o.stateDir, (id) => o.live.has(id), {});
    const shown = listRuns(o.stateDir, (id) => o.live.has(id), filter);
    return page(reply, runsPage({ user, all, shown, filter, reportsDir }));
  });

  const runOf = (req: FastifyRequest) => {
    const runId = validRunId((req.params as { id: string }).id);
    return runId ? runSummary(o.stateDir, runId, o.live.has(runId)) : undefined;
  };

  app.get('/runs/:id', async (req, reply) => {
    const user = signedIn(req, reply);
    if (!user) return reply;
    const run = runOf(req);
    if (!run) return reply.code(404).type('text/plain').send('no such run');
    const csrf = auth.csrfOf(req.headers.cookie)!;
    return page(reply, runPage({ user, run, csrf, report: reportLink(reportsDir, run) }));
  });

  app.get('/runs/:id/events', (req, reply) => {
    if (!signedIn(req, reply)) return reply;
    const run = runOf(req);
    if (!run) return reply.code(404).send({ error: 'no such run' });
    const runId = run.header.runId;
    reply.hijack();
    streamRun(reply.raw, {
      journal: journalPath(o.stateDir, runId),
      emitter: o.live.get(runId),
      open,
      onClose: (listener) => req.raw.once('close', listener),
    });
  });

  app.get('/runs/:id/approvals', async (req, reply) => {
    if (!signedIn(req, reply)) return reply;
    const run = runOf(req);
    if (!run) return reply.code(404).send({ error: 'no such run' });
    return pendingApprovals(o.stateDir, run.header.runId)
      .filter((p) => run.waiting.includes(p.stepId))
      .map(({ id, stepId, message, requestedAt, fourEyes }) => ({
        id,
        stepId,
        message,
        requestedAt,
        fourEyes,
      }));
  });

  app.post('/runs/:id/approvals', async (req, reply) => {
    const user = signedIn(req, reply);
    if (!user) return reply;
    if (!auth.csrfValid(req.headers.cookie, req.headers[CSRF_HEADER]))
      return reply.code(403).send({ error: 'missing or wrong CSRF token: answer from the run page' });
    const runId = validRunId((req.params as { id: string }).id);
    let body: { stepId?: unknown; id?: unknown; approved?: unknown; reason?: unknown };
    try {
      body = JSON.parse(typeof req.body === 'string' ? req.body : '') as typeof body;
    } catch {
      return reply.code(400).send({ error: 'the body must be JSON' });
    }
    const { stepId, id, approved, reason } = body ?? {};
    if (!runId || typeof stepId !== 'string' || typeof id !== 'string' || typeof approved !== 'boolean')
      return reply.code(400).send({ error: 'stepId, id and approved are required' });
    const answer = decideApproval(
      o,
      {
        approved,
        runId,
        stepId,
        id,
        user: user.id,
        userName: user.name,
        reason: typeof reason === 'string' && reason ? reason.slice(0, 500) : undefined,
      },
      'web',
    );
    return reply.code(answer.status).send(answer.body);
  });

  app.get('/history', async (req, reply) => {
    const user = signedIn(req, reply);
    if (!user) return reply;
    try {
      return page(reply, historyPage(user, loadHistory(reportsDir)));
    } catch (err) {
      return page(reply, historyPage(user, [], errorMessage(err)));
    }
  });

  app.get('/schedule', async (req, reply) => {
    const user = signedIn(req, reply);
    if (!user) return reply;
    if (!ui.drills)
      return page(reply, schedulePage(user, [], ['no drill directory: set ui.drills in the triggers file']));
    const dir = resolve(dirname(o.triggers.file), ui.drills);
    try {
      const results = checkScheduledFiles(dir);
      const drills = results.flatMap((r) =>
        r.drill
          ? [
              listSchedules(r.drill, r.file, {
                count: DEFAULT_LIST_COUNT,
                stateDir: o.stateDir,
                from: new Date(),
              }),
            ]
          : [],
      );
      return page(
        reply,
        schedulePage(
          user,
          drills,
          results.flatMap((r) => r.errors.map((e) => e.format())),
        ),
      );
    } catch (err) {
      return page(reply, schedulePage(user, [], [errorMessage(err)]));
    }
  });

  app.get('/reports/:dir/:file', async (req, reply) => {
    if (!signedIn(req, reply)) return reply;
    const { dir, file } = req.params as { dir: string; file: string };
    const path = join(reportsDir, dir, file);
    if (!REPORT_DIR.test(dir) || dir.includes('..') || !REPORT_FILES.has(file) || !existsSync(path))
      return reply.code(404).type('text/plain').send('no such report');
    return reply
      .header('content-security-policy', REPORT_CSP)
      .type(REPORT_TYPES[file]!)
      .send(readFileSync(path));
  });
}
