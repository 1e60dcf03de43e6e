// The web UI's pages other than a run's own: sign-in, the runs (filtered), the drill history with its
// RTO and RPO trends (the reports' own SVG), and the schedule's next occurrences. Everything that
// comes from a journal, a report, an alert or a drill file is escaped.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RPO_TREND, RTO_TREND, groupSummary, trendSvg, type HistoryGroup } from '../../report/history.js';
import { statusIcon } from '../../report/icons.js';
import { dur, rows } from '../../report/text.js';
import { minute } from '../../report/trend.js';
import { esc } from '../../report/xml.js';
import type { ListedDrill } from '../../schedule/list.js';
import { reportDirName } from '../../system/run-paths.js';
import { formatIn } from '../../time-zone.js';
import type { WebUser } from './auth.js';
import { uiPage, type Rendered } from './layout.js';
import type { RunFilter, RunSummary } from './runs.js';

export function loginPage(problem?: string): Rendered {
  return uiPage({
    title: 'Sign in',
    body: `<h1>drillbook</h1>${problem ? `<p class="missed">${esc(problem)}</p>` : ''}
<form method="post" action="/login"><label>Your web UI token <input type="password" name="token" autocomplete="current-password" autofocus required></label> <button type="submit">Sign in</button></form>`,
  });
}

/** The report of a run, when it has been written: its path under /reports/. */
export function reportLink(reportsDir: string, r: RunSummary): string | undefined {
  const dir = reportDirName(r.header);
  return existsSync(join(reportsDir, dir, 'report.html'))
    ? `/reports/${encodeURIComponent(dir)}/report.html`
    : undefined;
}

const select = (name: keyof RunFilter, label: string, values: Iterable<string>, chosen?: string) =>
  `<label>${esc(label)}<select name="${name}"><option value="">all</option>${[...new Set(values)]
    .sort()
    .map((v) => `<option${v === chosen ? ' selected' : ''}>${esc(v)}</option>`)
    .join('')}</select></label>`;

const triggerCell = (r: RunSummary) => {
  const t = r.header.trigger;
  return t
    ? `${esc(t.name)}<br><small>${esc(`${t.alertname ?? ''} ${t.labels.instance ?? ''}`.trim())}</small>`
    : 'manual';
};

export function runsPage(o: {
  user: WebUser;
  all: RunSummary[];
  shown: RunSummary[];
  filter: RunFilter;
  reportsDir: string;
}): Rendered {
  const { all, filter } = o;
  const filters = `<form class="filters" method="get" action="/">
${select(
  'environment',
  'environment',
  all.map((r) => r.header.environment.name),
  filter.environment,
)}
${select(
  'runbook',
  'runbook',
  all.map((r) => r.header.runbook.name),
  filter.runbook,
)}
${select(
  'status',
  'status',
  all.map((r) => r.status),
  filter.status,
)}
${select(
  'trigger',
  'trigger',
  all.map((r) => r.trigger),
  filter.trigger,
)}
<button type="submit">Filter</button></form>`;
  const row = (r: RunSummary) => {
    const report = reportLink(o.reportsDir, r);
    const status = r.waiting.length ? 'waiting' : r.status;
    return `<tr class="run ${esc(r.status)}" data-run="${esc(r.header.runId)}"><td>${statusIcon(status, r.waiting.length ? `waiting for approval of ${r.waiting.join(', ')}` : r.status)} ${esc(r.verdict ?? r.status)}</td>
<td><a href="/runs/${encodeURIComponent(r.header.runId)}">${esc(r.header.runId)}</a></td><td>${esc(r.header.runbook.name)}</td>
<td>${esc(`${r.header.environment.name} (${r.header.environment.label})`)}</td><td>${triggerCell(r)}</td>
<td>${esc(minute(r.header.createdAt))}</td><td class="num">${esc(dur(r.durationMs))}</td><td>${report ? `<a href="${esc(report)}">report</a>` : ''}</td></tr>`;
  };
  const running = o.shown.filter((r) => r.status === 'running');
  const past = o.shown.filter((r) => r.status !== 'running');
  const table = (list: RunSummary[]) =>
    list.length
      ? `<table><thead><tr><th>status</th><th>run</th><th>runbook</th><th>environment</th><th>trigger</th><th>started (UTC)</th><th>duration</th><th></th></tr></thead><tbody>${list.map(row).join('\n')}</tbody></table>`
      : '<p class="notice">None.</p>';
  return uiPage({
    title: 'Runs',
    user: o.user,
    body: `<h1>Runs</h1>${filters}<h2>Running</h2><div id="running">${table(running)}</div><h2>Past</h2>${table(past)}`,
    // The list refreshes itself while something runs, so a run an alert starts shows up.
    script: `setTimeout(()=>location.reload(),${running.length ? 2000 : 5000});`,
  });
}

export function historyPage(user: WebUser, groups: HistoryGroup[], problem?: string): Rendered {
  const section = (g: HistoryGroup) => `<h2>${esc(g.title)}</h2>
<p class="${g.regression?.regressed ? 'missed' : ''}">${esc(groupSummary(g))}</p>
<h3>RTO</h3>${trendSvg(g, RTO_TREND) || '<p class="notice">no RTO measured</p>'}
<h3>RPO</h3>${trendSvg(g, RPO_TREND) || '<p class="notice">no RPO measured</p>'}
<table><thead><tr><th>result</th><th>run</th><th>date</th><th>RTO</th><th>objective</th><th>RPO</th><th>objective</th></tr></thead><tbody>
${g.entries
  .map(
    (e) =>
      `<tr><td>${statusIcon(e.passed ? 'succeeded' : 'failed', e.result)} ${esc(e.result)}</td><td><a href="/reports/${esc(encodeURIComponent(e.dir))}/report.html">${esc(e.runId)}</a></td><td>${esc(minute(e.createdAt))}</td><td class="num">${esc(dur(e.rtoMs))}</td><td class="num">${esc(dur(e.rtoObjectiveMs))}</td><td class="num">${esc(rows(e.rpoRows))}</td><td class="num">${esc(rows(e.rpoObjectiveRows))}</td></tr>`,
  )
  .join('\n')}</tbody></table>`;
  return uiPage({
    title: 'History',
    user,
    body: `<h1>Drill history</h1>${problem ? `<p class="notice">${esc(problem)}</p>` : ''}${groups.map(section).join('\n') || '<p class="notice">No reports yet.</p>'}`,
  });
}

export function schedulePage(user: WebUser, drills: ListedDrill[], problems: string[]): Rendered {
  const drill = (d: ListedDrill) => `<h2>${esc(d.name)}</h2>
<p>${esc(`${d.environment}: "${d.cron}" in ${d.timezone}${d.jitter ? `, jitter ${d.jitter}` : ''}`)}${d.state?.lastRun ? `<br>last run: ${esc(d.state.lastRun.verdict)}${d.state.lastRun.runId ? ` (<a href="/runs/${encodeURIComponent(d.state.lastRun.runId)}">${esc(d.state.lastRun.runId)}</a>)` : ''}` : ''}</p>
${d.degraded ? `<p class="missed">${esc(`environment degraded since ${d.degraded.since}: ${d.degraded.reason}`)}</p>` : ''}
<table><thead><tr><th>next occurrence (${esc(d.timezone)})</th><th>starts</th><th></th></tr></thead><tbody>${
    d.occurrences
      .map(
        (x) =>
          `<tr><td>${esc(formatIn(new Date(x.at), d.timezone))}</td><td>${esc(formatIn(new Date(x.start), d.timezone))}</td><td>${x.skip ? `skipped: ${esc(x.skip)}` : ''}</td></tr>`,
      )
      .join('') || '<tr><td colspan="3">no further occurrence</td></tr>'
  }</tbody></table>`;
  return uiPage({
    title: 'Schedule',
    user,
    body: `<h1>Schedule</h1>${problems.map((p) => `<p class="missed">${esc(p)}</p>`).join('')}${drills.map(drill).join('\n') || '<p class="notice">No scheduled drill.</p>'}`,
  });
}
