// A run's page, its events as they happen (server-sent events), its pending approvals, and the answer
// to one: session and CSRF token required, then the same decision as a Slack click (allow-list,
// four eyes, single-use id, first answer wins), recorded as `via web`.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { pendingApprovals } from '../../engine/approval-box.js';
import { checkRunId, journalPath } from '../../system/run-paths.js';
import { decideApproval } from '../slack-actions.js';
import { CSRF_HEADER } from './auth.js';
import { streamRun } from './events-stream.js';
import { page } from './layout.js';
import { reportLink } from './pages.js';
import type { UiContext } from './routes.js';
import { runPage } from './run-page.js';

const validRunId = (id: string) => {
  try {
    return checkRunId(id);
  } catch {
    return undefined;
  }
};

/** The longest reason kept: it goes into the journal and the report. */
const MAX_REASON = 500;

export function runRoutes(app: FastifyInstance, c: UiContext): void {
  const { o } = c;
  const runOf = (req: FastifyRequest) => {
    const runId = validRunId((req.params as { id: string }).id);
    return runId ? c.runs.summary(runId, o.live.has(runId)) : undefined;
  };

  app.get('/runs/:id', async (req, reply) => {
    const user = c.signedIn(req, reply);
    if (!user) return reply;
    const run = runOf(req);
    if (!run) return reply.code(404).type('text/plain').send('no such run');
    const csrf = c.auth.csrfOf(req.headers.cookie)!;
    return page(reply, runPage({ user, run, csrf, report: reportLink(c.reportsDir, run) }));
  });

  app.get('/runs/:id/events', (req, reply) => {
    if (!c.signedIn(req, reply)) return reply;
    const run = runOf(req);
    if (!run) return reply.code(404).send({ error: 'no such run' });
    const runId = run.header.runId;
    reply.hijack();
    streamRun(reply.raw, {
      journal: journalPath(o.stateDir, runId),
      emitter: o.live.get(runId),
      open: c.open,
      onClose: (listener) => req.raw.once('close', listener),
    });
  });

  app.get('/runs/:id/approvals', async (req, reply) => {
    if (!c.signedIn(req, reply)) return reply;
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
    const user = c.signedIn(req, reply);
    if (!user) return reply;
    if (!c.auth.csrfValid(req.headers.cookie, req.headers[CSRF_HEADER]))
      return reply.code(403).send({ error: 'missing or wrong CSRF token: answer from the run page' });
    const runId = validRunId((req.params as { id: string }).id);
    let body: { stepId?: unknown; id?: unknown; approved?: unknown; reason?: unknown } | null;
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
        reason: typeof reason === 'string' && reason ? reason.slice(0, MAX_REASON) : undefined,
      },
      'web',
    );
    return reply.code(answer.status).send(answer.body);
  });
}
