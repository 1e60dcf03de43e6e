// report.html: one self-contained file (inline CSS and SVG, no script, no external asset) that
// opens offline from a ticket or an artifact store years later.
import { chainTable, clientsTable } from './drill-tables.js';
import { patroniLines } from '../schema/drill-outcome.js';
import { backupTables } from './backup-tables.js';
import { CLOUD_EVENT_COLUMNS, cloudEventRows } from './cloud-events.js';
import { joined, mapped, whole, type Chunks, type Part } from './chunks.js';
import type { Report } from './schema.js';
import {
  dur,
  headline,
  mark,
  outcomeOf,
  metWord,
  verdictWord,
  ofLimit,
  passed,
  rows,
  rtoLabel,
  stepOutcome,
} from './text.js';
import { renderObjectives, renderTimeline } from './timeline.js';
import { statusIcon } from './icons.js';
import { esc } from './xml.js';

export const REPORT_CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1000px;color:#1a202c;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e2e8f0;padding-bottom:4px}
.verdict{display:inline-block;padding:2px 10px;border-radius:4px;font-weight:600;color:#fff}
.verdict.pass{background:#2f855a}.verdict.fail{background:#c53030}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #edf2f7;vertical-align:top}
th{background:#f7fafc;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.failed td.outcome,.missed{color:#c53030;font-weight:600}.met{color:#2f855a}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}.card{border:1px solid #e2e8f0;border-radius:6px;padding:8px 12px;min-width:150px}
.card b{display:block;font-size:18px}.card span{color:#4a5568;font-size:12px}
code{font:12px ui-monospace,Menlo,monospace;background:#f7fafc;padding:1px 4px;border-radius:3px;word-break:break-all}
svg{max-width:100%;height:auto;font:11px system-ui,sans-serif}svg.icon{width:16px;height:16px;max-width:none;vertical-align:-3px}
.timeline .label{fill:#2d3748}.timeline .tick line{stroke:#edf2f7}.timeline .tick text{fill:#718096}
.budget-bar{fill:none;stroke:#a0aec0;stroke-dasharray:3 2}.budget-bar.clipped{stroke:#cbd5e0}
.step-bar.ok{fill:#48bb78}.step-bar.over{fill:#dd6b20}.step-bar.failed{fill:#e53e3e}.step-bar.skipped{fill:#cbd5e0}
.approval-wait{fill:url(#hatch);stroke:#805ad5}
.outage{fill:#fed7d7;stroke:#e53e3e}
.fault line{stroke:#c53030;stroke-width:2}.fault text{fill:#c53030;font-weight:600}
.rto-objective line,.run-rto line{stroke:#2b6cb0;stroke-dasharray:6 3}.rto-objective text,.run-rto text,.run-rto{fill:#2b6cb0}
.promoted line{stroke:#2f855a;stroke-dasharray:2 2}.promoted text{fill:#2f855a}
.ha-chain line{stroke:#6b46c1;stroke-dasharray:1 3}.ha-chain text{fill:#6b46c1;font-size:10px}
.rto-exceeded line{stroke:#dd6b20;stroke-width:2}.rto-exceeded text{fill:#dd6b20}
rect.rto.met{fill:#2f855a}rect.rto.missed{fill:#c53030}
.objectives .track{fill:#edf2f7}.gauge.met .value{fill:#48bb78}.gauge.missed .value{fill:#e53e3e}
.objectives .objective{stroke:#2b6cb0;stroke-width:3}
.legend span{margin-right:14px}.legend i{display:inline-block;width:14px;height:10px;margin-right:4px;vertical-align:middle}
h3{font-size:15px;margin:16px 0 4px}.backups table{font-size:13px}.backups td{overflow-wrap:anywhere}
.backups td:nth-child(-n+2),.backups td.num,.backups td.word{overflow-wrap:normal}
footer{margin-top:32px;color:#718096;font-size:12px}
`;

const card = (value: string, what: string, cls = '') =>
  `<div class="card ${cls}"><b>${esc(value)}</b><span>${esc(what)}</span></div>`;

/** A table, row by row: the steps' table of a long run is megabytes. */
function* tableOf(
  head: string[],
  body: Iterable<string[]>,
  rowClass: (i: number) => string = () => '',
): Generator<string> {
  yield `<table>${head.some(Boolean) ? `<thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>` : ''}<tbody>`;
  yield* mapped(body, (r, i) => `<tr class="${rowClass(i)}">${r.join('')}</tr>`);
  yield '</tbody></table>';
}
const td = (text: string | number, cls = '') => `<td class="${cls}">${esc(text)}</td>`;

/** A complete HTML document around a body. */
function* page(title: string, body: Chunks): Generator<string> {
  yield `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>${REPORT_CSS}</style></head>
<body>
`;
  yield* body;
  yield `
<footer>drillbook report — generated from the run’s journal; rebuild with <code>drillbook report RUN_ID</code></footer>
</body></html>
`;
}

/** The page around a body given whole: the history page. */
export const htmlPage = (title: string, body: string): string => whole(page(title, [body]));

/** report.html in pieces, as written (see chunks.ts). */
export function htmlChunks(r: Report): Chunks {
  const body: Part[] = [
    ...summary(r),
    ...timeline(r),
    ...(r.drill ? drillSection(r.drill) : []),
    ...(r.backups ? backupsSection(r.backups) : []),
    ...stepsSection(r),
    ...afterSteps(r),
  ];
  return page(headline(r), joined(body, '\n'));
}

export const renderHtml = (r: Report): string => whole(htmlChunks(r));

/** The headline, the verdict, the figures as cards and why it failed. */
function summary(r: Report): string[] {
  const d = r.drill;
  const ok = passed(r);
  const body: string[] = [
    `<h1>${statusIcon(outcomeOf(r))} ${esc(headline(r))}</h1>`,
    `<p><span class="verdict ${ok ? 'pass' : 'fail'}">${verdictWord(ok ? 'pass' : 'fail')}</span> run <code>${esc(r.run.id)}</code> by ${esc([...new Set(r.run.operators)].join(', '))}, started ${esc(r.run.createdAt)}${r.run.startedBy ? ` by ${esc(r.run.startedBy)}` : ''}${r.run.resumes ? `, resumed ${r.run.resumes}×` : ''}</p>`,
    `<div class="cards">${cards(r).join('')}</div>`,
  ];
  if (r.run.failedStep)
    body.push(
      `<p class="missed">Failed at <code>${esc(r.run.failedStep)}</code>: ${esc(r.run.error ?? '')}</p>`,
    );
  if (d?.reasons.length) body.push(`<ul>${d.reasons.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>`);
  return body;
}

/** The figures at a glance: run, drill and restore times against their objectives. */
function cards(r: Report): string[] {
  const d = r.drill;
  const shown = [
    card(r.run.status, 'status'),
    card(
      ofLimit(r.rto.actualMs, r.rto.objectiveMs),
      `run duration${r.rto.met === undefined ? '' : ` — RTO ${metWord(r.rto.met)}`}`,
      r.rto.met === false ? 'missed' : '',
    ),
    card(dur(r.approvalWaitMs), 'approval waits (apart)'),
  ];
  if (d)
    shown.push(
      card(
        dur(d.rto.actual),
        `${rtoLabel(d)}, objective ${dur(d.rto.objective)}`,
        d.rto.met ? 'met' : 'missed',
      ),
      card(rows(d.rpo.actual), `RPO, objective ${rows(d.rpo.objective)}`, d.rpo.met ? 'met' : 'missed'),
      card(`${d.probe.writesAcked}/${d.probe.writesSent}`, 'probe writes acknowledged'),
    );
  for (const t of [...(r.backups?.restoreTests ?? []), ...(r.backups?.pitr ?? [])])
    if (t.rto)
      shown.push(
        card(
          ofLimit(t.rto.actual, t.rto.objective),
          `${t.stepId}: time to usable — RTO ${metWord(t.rto.met)}`,
          t.rto.met ? 'met' : 'missed',
        ),
      );
  return shown;
}

/** The timeline with its legend, and the objectives chart. */
function timeline(r: Report): Part[] {
  const body: Part[] = ['<h2>Timeline</h2>', renderTimeline(r)];
  body.push(
    `<p class="legend"><span><i style="background:#48bb78"></i>within budget</span><span><i style="background:#dd6b20"></i>over budget</span><span><i style="background:#e53e3e"></i>failed</span><span><i style="border:1px dashed #a0aec0"></i>budget</span><span><i style="background:#e9d8fd;border:1px solid #805ad5"></i>approval wait (apart)</span>${r.drill ? '<span><i style="background:#fed7d7;border:1px solid #e53e3e"></i>client outage</span>' : ''}${r.drill?.patroni ? '<span><i style="border-left:1px dotted #6b46c1"></i>HA manager (Patroni): key expired → leader elected → routed → new timeline</span>' : ''}</p>`,
  );
  if (r.cloudEvents)
    body.push(
      '<h3>Cloud failover events</h3>',
      tableOf(
        CLOUD_EVENT_COLUMNS,
        cloudEventRows(r.cloudEvents, dur).map((row) => row.map((cell) => td(cell))),
      ),
    );
  const objectives = renderObjectives(r);
  if (objectives) body.push('<h2>Objectives</h2>', objectives);
  return body;
}

function drillSection(d: NonNullable<Report['drill']>): Part[] {
  const body: Part[] = ['<h2>Drill</h2>'];
  body.push(
    tableOf(
      ['', ''],
      [
        ['drill', `${d.name} (${d.path})`],
        [
          'fault',
          `${d.fault.kind} on ${d.fault.node}${d.fault.atMs !== undefined ? ` at ${dur(d.fault.atMs)}` : ''}${d.fault.detail ? ` — ${d.fault.detail}` : ''}`,
        ],
        [
          'fault reverted',
          d.fault.reverted ? 'yes' : `no${d.fault.revertError ? `: ${d.fault.revertError}` : ''}`,
        ],
        [
          'probe',
          `${d.probe.route}, every ${dur(d.probe.intervalMs)}; ${d.probe.writesFailed} failed writes, longest gap ${dur(d.probe.longestGapMs)}`,
        ],
        ['outage', d.probe.outage ? `${dur(d.probe.outage.fromAtMs)} → ${dur(d.probe.outage.toAtMs)}` : '—'],
        ['RPO bytes (WAL)', d.rpoBytes === undefined ? '—' : String(d.rpoBytes)],
        ['lost rows', d.lostSeqs.join(', ') || 'none'],
        ['split-brain writes', String(d.splitBrainWrites)],
        ...(d.patroni ? [['patroni', patroniLines(d.patroni, dur).join('; ')]] : []),
        [
          'restore',
          d.restore
            ? `${d.restore.status}${d.restore.runId ? ` (run ${d.restore.runId})` : ''}${d.restore.manualSteps?.length ? `; by hand: ${d.restore.manualSteps.join('; ')}` : ''}`
            : '—',
        ],
      ].map(([k, v]) => [td(k!), td(v!)]),
    ),
  );
  for (const t of [clientsTable(d), chainTable(d)])
    if (t)
      body.push(
        `<h2>${esc(t.title)}</h2>`,
        tableOf(
          t.head,
          t.rows.map((row) => row.map((c) => td(c.text, c.cls))),
        ),
      );
  if (d.phases.length)
    body.push(
      '<h2>Phases</h2>',
      tableOf(
        ['phase', 'steps', 'duration', 'approval wait', 'budget', ''],
        d.phases.map((p) => [
          td(p.phase),
          td(p.steps.join(', ')),
          td(dur(p.durationMs), 'num'),
          td(p.waitMs ? dur(p.waitMs) : '', 'num'),
          td(dur(p.budgetMs), 'num'),
          td(metWord(p.met), p.met === false ? 'missed' : 'met'),
        ]),
      ),
    );
  return body;
}

function backupsSection(backups: NonNullable<Report['backups']>): Part[] {
  const body: Part[] = ['<h2>Backups</h2>', '<div class="backups">'];
  for (const t of backupTables(backups))
    body.push(
      `<h3>${esc(t.title)}</h3>`,
      tableOf(
        t.head,
        t.rows.map((row) =>
          row.cells.map((c) => (c.icon ? `<td>${statusIcon(c.icon, c.text)}</td>` : td(c.text, c.cls))),
        ),
        (i) => (t.rows[i]!.failed ? 'failed' : ''),
      ),
    );
  body.push('</div>');
  return body;
}

function stepsSection(r: Report): Part[] {
  return [
    '<h2>Steps</h2>',
    tableOf(
      ['', 'step', 'kind', 'phase', 'outcome', 'duration', 'budget', 'approval wait', 'attempts', 'details'],
      mapped(r.steps, (s) => [
        `<td>${statusIcon(s.status, mark(s.status))}</td>`,
        td(s.name ? `${s.id} — ${s.name}` : s.id),
        td(s.kind),
        td(s.phase),
        td(stepOutcome(s), 'outcome'),
        td(dur(s.durationMs), 'num'),
        td(dur(s.budgetMs), 'num'),
        td(s.waitMs ? dur(s.waitMs) : '', 'num'),
        td(s.attempts, 'num'),
        `<td>${[s.error && `<div class="missed">${esc(s.error)}</div>`, ...s.attemptErrors.map((a) => `<div>${esc(a)}</div>`), ...Object.entries(s.outputs).map(([k, v]) => `<div>${esc(k)}: <code>${esc(v)}</code></div>`)].filter(Boolean).join('')}</td>`,
      ]),
      (i) => (r.steps[i]!.status === 'failed' ? 'failed' : ''),
    ),
  ];
}

/** Rollback, budget misses, approvals, warnings and what the run ran against. */
function afterSteps(r: Report): Part[] {
  const body: Part[] = [];
  if (r.rollback)
    body.push(
      '<h2>Rollback</h2>',
      `<p>After <code>${esc(r.rollback.failedStep)}</code> failed (${esc(r.rollback.error)}), from ${esc(dur(r.rollback.startAtMs))}.</p>`,
    );
  if (r.budgetMisses.length)
    body.push(
      '<h2>Budget misses</h2>',
      `<ul>${r.budgetMisses.map((m) => `<li><code>${esc(m.stepId)}</code>: ${esc(ofLimit(m.elapsedMs, m.budgetMs))}</li>`).join('')}</ul>`,
    );
  if (r.approvals.length)
    body.push(
      '<h2>Approvals</h2>',
      tableOf(
        ['step', 'asked', 'answer', 'by', 'wait'],
        r.approvals.map((a) => [
          td(a.stepId),
          td(a.message),
          td(a.outcome),
          td(a.by ?? ''),
          td(dur(a.waitMs), 'num'),
        ]),
      ),
    );
  if (r.warnings.length)
    body.push('<h2>Warnings</h2>', `<ul>${r.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>`);
  body.push(
    '<h2>Run</h2>',
    tableOf(
      ['', ''],
      [
        ['runbook', `${r.runbook.name} — ${r.runbook.path} (sha256 ${r.runbook.sha256})`],
        ['environment', `${r.environment.name} (${r.environment.label})`],
        ['inventory', r.inventory],
        ['inputs', JSON.stringify(r.inputs)],
        ['finished', r.run.finishedAt ?? 'did not finish'],
      ].map(([k, v]) => [td(k!), td(v!)]),
    ),
  );
  return body;
}
