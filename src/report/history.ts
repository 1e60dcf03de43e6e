// The trend across runs: every report.json under the reports directory, grouped per drill and per
// runbook-and-environment, with RTO and RPO over time, the pass rate, and a regression flag; then
// backups and restores per environment (backup-history.ts).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { backupHistoryHtml, backupHistoryTable, type BackupHistory } from './backup-history.js';
import { htmlPage } from './html.js';
import { REPORT_VERSION, type Report } from './schema.js';
import { dur, passed, rows } from './text.js';
import { aligned, minute, percent, regressionOf, type Regression } from './trend.js';
import { esc } from './xml.js';

export { REGRESSION_RATIO, median, regressionOf, type Regression } from './trend.js';

export interface HistoryEntry {
  runId: string;
  createdAt: string;
  /** The report's directory name under the reports directory. */
  dir: string;
  result: string;
  passed: boolean;
  /** A drill's client-observed RTO; a runbook's duration when it succeeded (a failed run recovered nothing). */
  rtoMs?: number;
  rtoObjectiveMs?: number;
  rpoRows?: number;
  rpoObjectiveRows?: number;
}

export interface HistoryGroup {
  title: string;
  entries: HistoryEntry[];
  passRate: number;
  regression?: Regression;
}

function entryOf(r: Report, dir: string): HistoryEntry {
  const d = r.drill;
  return {
    runId: r.run.id,
    createdAt: r.run.createdAt,
    dir,
    result: d ? d.verdict : r.run.status,
    passed: passed(r),
    rtoMs: d ? d.rto.actual : r.run.status === 'succeeded' ? r.rto.actualMs : undefined,
    rtoObjectiveMs: d ? d.rto.objective : r.rto.objectiveMs,
    rpoRows: d?.rpo.actual,
    rpoObjectiveRows: d?.rpo.objective,
  };
}

const groupTitle = (r: Report) =>
  r.drill
    ? `drill ${r.drill.name} (${r.runbook.name} on ${r.environment.name})`
    : `runbook ${r.runbook.name} on ${r.environment.name}`;

export interface StoredReport {
  report: Report;
  /** The report's directory name under the reports directory. */
  dir: string;
}

/** Reads every <dir>/<report>/report.json; a run re-rendered into two folders counts once. */
export function readReports(reportsDir: string): StoredReport[] {
  if (!existsSync(reportsDir)) throw new UserError(`no reports directory ${reportsDir}`);
  const byRun = new Map<string, StoredReport>();
  for (const dir of readdirSync(reportsDir).sort()) {
    const file = join(reportsDir, dir, 'report.json');
    if (!existsSync(file)) continue;
    let report: Report;
    try {
      report = JSON.parse(readFileSync(file, 'utf8')) as Report;
    } catch {
      continue; // a foreign or damaged file is no run of ours; the rest still make a history
    }
    if (report.reportVersion !== REPORT_VERSION) continue;
    byRun.set(report.run.id, { report, dir });
  }
  return [...byRun.values()];
}

/** The runs grouped per drill and per runbook-and-environment, each group in time order. */
export function historyGroups(reports: StoredReport[]): HistoryGroup[] {
  const groups = new Map<string, HistoryEntry[]>();
  for (const { report, dir } of reports) {
    const title = groupTitle(report);
    groups.set(title, [...(groups.get(title) ?? []), entryOf(report, dir)]);
  }
  return [...groups]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([title, list]) => {
      const entries = list.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
      const rtos = entries.map((e) => e.rtoMs).filter((v): v is number => v !== undefined);
      return {
        title,
        entries,
        passRate: entries.filter((e) => e.passed).length / entries.length,
        regression: regressionOf(rtos),
      };
    });
}

export const loadHistory = (reportsDir: string) => historyGroups(readReports(reportsDir));

export function groupSummary(g: HistoryGroup): string {
  const reg = g.regression;
  const flag = reg?.regressed
    ? ` — REGRESSION: latest RTO ${dur(reg.latestMs)} is ${percent(reg.latestMs / reg.medianMs - 1)} above the median ${dur(reg.medianMs)} of the runs before`
    : '';
  return `${g.entries.length} run(s), pass rate ${percent(g.passRate)}${flag}`;
}

function columns(e: HistoryEntry): string[] {
  return [
    minute(e.createdAt),
    e.runId,
    e.result,
    dur(e.rtoMs),
    dur(e.rtoObjectiveMs),
    e.rpoRows === undefined ? '—' : String(e.rpoRows),
    e.rpoObjectiveRows === undefined ? '—' : String(e.rpoObjectiveRows),
  ];
}
const HEAD = ['date', 'run', 'result', 'RTO', 'objective', 'RPO rows', 'objective'];

/** The terminal table: one block per group, aligned columns. */
export function historyTable(groups: HistoryGroup[], backups: BackupHistory[] = []): string {
  if (!groups.length) return 'no reports yet';
  return [
    ...groups.map((g) =>
      [`${g.title}: ${groupSummary(g)}`, ...aligned([HEAD, ...g.entries.map(columns)])].join('\n'),
    ),
    ...(backups.length ? [backupHistoryTable(backups)] : []),
  ].join('\n\n');
}

/** What a trend plots of each run: a figure, its objective, how to show it. */
export interface TrendMetric {
  name: string;
  value(e: HistoryEntry): number | undefined;
  objective(e: HistoryEntry): number | undefined;
  show(v: number | undefined): string;
}

export const RTO_TREND: TrendMetric = {
  name: 'RTO',
  value: (e) => e.rtoMs,
  objective: (e) => e.rtoObjectiveMs,
  show: dur,
};
export const RPO_TREND: TrendMetric = {
  name: 'RPO',
  value: (e) => e.rpoRows,
  objective: (e) => e.rpoObjectiveRows,
  show: rows,
};

/** A figure of each run as points over the runs, the objective as a line (RTO unless told). */
export function trendSvg(g: HistoryGroup, m: TrendMetric = RTO_TREND): string {
  const points = g.entries.map((e, i) => ({ i, e, v: m.value(e) })).filter((p) => p.v !== undefined);
  if (!points.length) return '';
  const W = 600;
  const H = 120;
  const last = g.entries.at(-1);
  const objective = last && m.objective(last);
  const max = Math.max(...points.map((p) => p.v!), objective ?? 0, 1) * 1.1;
  const x = (i: number) =>
    30 + (g.entries.length > 1 ? (i / (g.entries.length - 1)) * (W - 60) : (W - 60) / 2);
  const y = (v: number) => H - 20 - (v / max) * (H - 40);
  const line = points.map((p) => `${x(p.i).toFixed(1)},${y(p.v!).toFixed(1)}`).join(' ');
  return `<svg class="trend" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(m.name)} over time">
${objective === undefined ? '' : `<line class="objective" x1="30" x2="${W - 30}" y1="${y(objective).toFixed(1)}" y2="${y(objective).toFixed(1)}" stroke="#2b6cb0" stroke-dasharray="6 3"><title>objective ${esc(m.show(objective))}</title></line>`}
<polyline points="${line}" fill="none" stroke="#4a5568"/>
${points.map((p) => `<circle cx="${x(p.i).toFixed(1)}" cy="${y(p.v!).toFixed(1)}" r="4" fill="${p.e.passed ? '#48bb78' : '#e53e3e'}"><title>${esc(`${p.e.createdAt}: ${m.name} ${m.show(p.v)} (${p.e.result})`)}</title></circle>`).join('\n')}
</svg>`;
}

/** reports/index.html: links to each report by relative path, so the folder can move as a whole. */
export function historyHtml(groups: HistoryGroup[], backups: BackupHistory[] = []): string {
  const sections = groups.map(
    (g) => `<h2>${esc(g.title)}</h2>
<p class="${g.regression?.regressed ? 'missed' : ''}">${esc(groupSummary(g))}</p>
${trendSvg(g)}
<table><thead><tr>${HEAD.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>
${g.entries
  .map((e) => {
    const [date, runId, ...rest] = columns(e);
    return `<tr class="${e.passed ? '' : 'failed'}"><td>${esc(date!)}</td><td><a href="${esc(`${encodeURIComponent(e.dir)}/report.html`)}">${esc(runId!)}</a></td>${rest.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`;
  })
  .join('\n')}
</tbody></table>`,
  );
  return htmlPage(
    'drillbook history',
    `<h1>drillbook history</h1>\n${[...sections, backupHistoryHtml(backups)].join('\n').trim() || '<p>No reports yet.</p>'}`,
  );
}
