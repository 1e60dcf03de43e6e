// The UI's overview pages: the runs (filtered), the drill history, the schedule, and the reports
// themselves (served from the reports directory with a CSP that allows no script).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { errorMessage } from '../../errors.js';
import { loadHistory } from '../../report/history.js';
import { checkScheduledFiles } from '../../schedule/drills.js';
import { DEFAULT_LIST_COUNT, listSchedules } from '../../schedule/list.js';
import { REPORT_CSP, page } from './layout.js';
import { historyPage, runsPage, schedulePage } from './pages.js';
import type { UiContext } from './routes.js';
import { filterRuns, type RunFilter } from './runs.js';

const REPORT_DIR = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const REPORT_TYPES: Record<string, string> = {
  'report.html': 'text/html; charset=utf-8',
  'report.json': 'application/json; charset=utf-8',
  'report.md': 'text/plain; charset=utf-8',
};

export function listRoutes(app: FastifyInstance, c: UiContext): void {
  const { o, reportsDir } = c;
  app.get('/', async (req, reply) => {
    const user = c.signedIn(req, reply);
    if (!user) return reply;
    const q = req.query as Record<string, unknown>;
    const pick = (k: keyof RunFilter) => (typeof q[k] === 'string' && q[k] ? q[k] : undefined);
    const filter: RunFilter = {
      environment: pick('environment'),
      runbook: pick('runbook'),
      status: pick('status'),
      trigger: pick('trigger'),
    };
    const all = c.runs.list((id) => o.live.has(id));
    const shown = filterRuns(all, filter);
    return page(reply, runsPage({ user, all, shown, filter, reportsDir }));
  });

  app.get('/history', async (req, reply) => {
    const user = c.signedIn(req, reply);
    if (!user) return reply;
    try {
      return page(reply, historyPage(user, loadHistory(reportsDir)));
    } catch (err) {
      return page(reply, historyPage(user, [], errorMessage(err)));
    }
  });

  app.get('/schedule', async (req, reply) => {
    const user = c.signedIn(req, reply);
    if (!user) return reply;
    const drillsDir = o.triggers.data.ui?.drills;
    if (!drillsDir)
      return page(reply, schedulePage(user, [], ['no drill directory: set ui.drills in the triggers file']));
    try {
      const results = checkScheduledFiles(resolve(dirname(o.triggers.file), drillsDir));
      const count = DEFAULT_LIST_COUNT;
      const drills = results.flatMap((r) =>
        r.drill ? [listSchedules(r.drill, r.file, { count, stateDir: o.stateDir, from: new Date() })] : [],
      );
      const problems = results.flatMap((r) => r.errors.map((e) => e.format()));
      return page(reply, schedulePage(user, drills, problems));
    } catch (err) {
      return page(reply, schedulePage(user, [], [errorMessage(err)]));
    }
  });

  app.get('/reports/:dir/:file', async (req, reply) => {
    if (!c.signedIn(req, reply)) return reply;
    const { dir, file } = req.params as { dir: string; file: string };
    const type = Object.hasOwn(REPORT_TYPES, file) ? REPORT_TYPES[file] : undefined;
    const path = join(reportsDir, dir, file);
    if (!type || !REPORT_DIR.test(dir) || dir.includes('..') || !existsSync(path))
      return reply.code(404).type('text/plain').send('no such report');
    return reply.header('content-security-policy', REPORT_CSP).type(type).send(readFileSync(path));
  });
}
