// A run's page: what started it (the alert, escaped), its status, its report, and the places the run
// page's script fills from the live events: pending approvals, the steps, the run's log.
import { describeTrigger } from '../../engine/journal.js';
import { esc } from '../../report/xml.js';
import type { WebUser } from './auth.js';
import { uiPage, type Rendered } from './layout.js';
import { RUN_CLIENT } from './run-client.js';
import type { RunSummary } from './runs.js';

export function runPage(o: { user: WebUser; run: RunSummary; csrf: string; report?: string }): Rendered {
  const h = o.run.header;
  const labels = h.trigger
    ? `<table class="labels"><tbody>${Object.entries(h.trigger.labels)
        .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`)
        .join('')}</tbody></table>`
    : '';
  const inputs = Object.entries(h.inputs)
    .map(([k, v]) => `<code>${esc(k)}=${esc(typeof v === 'string' ? v : JSON.stringify(v))}</code>`)
    .join(' ');
  return uiPage({
    title: `Run ${h.runId}`,
    user: o.user,
    csrf: o.csrf,
    body: `<main id="run" data-run="${esc(h.runId)}">
<h1>${esc(h.runbook.name)} on ${esc(`${h.environment.name} (${h.environment.label})`)}: <span id="run-status">${esc(o.run.status)}</span></h1>
<p>run <code>${esc(h.runId)}</code>, started ${esc(h.createdAt)} by ${esc(h.operator)}${o.report ? ` — <a href="${esc(o.report)}">report</a>` : ''}</p>
<p>${h.trigger ? `Started by ${esc(describeTrigger(h.trigger))}` : 'Started by a person'}${inputs ? `<br>inputs: ${inputs}` : ''}</p>
${labels}
<div id="approvals"></div>
<h2>Steps</h2><ol class="steps" id="steps"></ol>
<h2>Run log</h2><ul class="logs" id="run-log"></ul>
</main>`,
    script: RUN_CLIENT,
  });
}
