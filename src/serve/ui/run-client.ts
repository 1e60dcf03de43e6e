// The run page's script (sent inline under the page's CSP nonce): it folds the run's events, which
// arrive by server-sent events (the journal so far, then each new one), into the step list — each
// step's status icon, its timer against its budget, its log lines — and shows pending approvals with
// Approve and Reject buttons that POST with the session's CSRF token. Text goes in by textContent
// only: run ids, step output and alert labels are never parsed as HTML.
import { statusIcon } from '../../report/icons.js';

const ICONS = Object.fromEntries(
  ['succeeded', 'failed', 'stopped', 'running', 'pending', 'skipped', 'waiting'].map((s) => [
    s,
    statusIcon(s),
  ]),
);

export const RUN_CLIENT = `"use strict";
const ICONS = ${JSON.stringify(ICONS).replace(/</g, '\\u003c')};
const root = document.getElementById('run');
const runId = root.dataset.run;
const csrf = document.querySelector('meta[name=csrf]').content;
const base = '/runs/' + encodeURIComponent(runId);
const steps = new Map();
const list = document.getElementById('steps');
const runLog = document.getElementById('run-log');
const approvals = document.getElementById('approvals');
const statusEl = document.getElementById('run-status');
let offset = 0;
let status = 'running';
const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };
const fmt = (ms) => ms < 1000 ? Math.round(ms) + ' ms' : ms < 60000 ? (ms / 1000).toFixed(1) + ' s' : Math.floor(ms / 60000) + ' min ' + Math.round((ms % 60000) / 1000) + ' s';
function setIcon(node, s) { node.innerHTML = ICONS[s] || ICONS.pending; }
function step(summary) {
  let s = steps.get(summary.id);
  if (s) return s;
  s = { id: summary.id, budgetMs: summary.budgetMs, status: 'pending' };
  s.li = el('li', 'step pending'); s.li.dataset.step = summary.id;
  const head = el('div', 'step-head');
  s.icon = el('span'); setIcon(s.icon, 'pending');
  head.append(s.icon, el('b', '', summary.id), el('span', 'notice', (summary.kind || '') + (summary.phase === 'rollback' ? ' (rollback)' : '')));
  s.timer = el('span', 'timer', summary.budgetMs !== undefined ? 'budget ' + fmt(summary.budgetMs) : '');
  head.append(s.timer);
  s.meter = el('div', 'meter'); s.bar = el('i'); s.meter.append(s.bar);
  s.logs = el('ul', 'logs');
  s.li.append(head, s.meter, s.logs);
  list.append(s.li);
  steps.set(summary.id, s);
  return s;
}
function show(s, st) { s.status = st; s.li.className = 'step ' + st + (s.over ? ' over' : ''); setIcon(s.icon, st); }
function log(s, text, level) { const li = el('li', level || '', text); (s ? s.logs : runLog).append(li); }
function tick(s, elapsed) {
  s.timer.textContent = fmt(elapsed) + (s.budgetMs !== undefined ? ' of ' + fmt(s.budgetMs) : '');
  s.timer.dataset.elapsed = String(Math.round(elapsed));
  if (s.budgetMs) s.bar.style.width = Math.min(100, (elapsed / s.budgetMs) * 100) + '%';
  if (s.budgetMs !== undefined && elapsed > s.budgetMs && !s.over) { s.over = true; s.li.classList.add('over'); }
}
function setStatus(text) { status = text; statusEl.textContent = text; document.title = text + ' ' + runId + ' — drillbook'; }
function handle(e) {
  switch (e.type) {
    case 'run-started': e.steps.forEach(step); setStatus('running'); break;
    case 'run-resumed': setStatus('running'); log(null, 'resumed by ' + e.operator); break;
    case 'rollback-started': e.steps.forEach(step); log(null, 'rollback after ' + e.failedStep + ': ' + e.error, 'warn'); break;
    case 'step-started': { const s = step({ id: e.stepId, kind: e.kind, budgetMs: e.budgetMs, phase: e.phase }); s.budgetMs = e.budgetMs; s.start = Date.parse(e.ts); show(s, 'running'); break; }
    case 'step-finished': { const s = step({ id: e.stepId }); s.start = undefined; tick(s, e.durationMs); show(s, e.status); if (e.error) log(s, e.error, 'warn'); if (e.waitMs) log(s, fmt(e.waitMs) + ' waiting for approval (counted apart)'); break; }
    case 'step-skipped': show(step({ id: e.stepId }), 'skipped'); if (e.detail) log(steps.get(e.stepId), 'skipped: ' + e.detail); break;
    case 'step-attempt-failed': log(step({ id: e.stepId }), 'attempt ' + e.attempt + ' failed: ' + e.error + (e.willRetry ? ' (retrying)' : ''), 'warn'); break;
    case 'budget-exceeded': { const s = step({ id: e.stepId }); s.over = true; s.li.classList.add('over'); log(s, 'over its budget of ' + fmt(e.budgetMs), 'warn'); break; }
    case 'log': log(e.stepId ? step({ id: e.stepId }) : null, e.message, e.level === 'warn' ? 'warn' : ''); break;
    case 'approval-requested': { const s = step({ id: e.stepId }); show(s, 'waiting'); log(s, 'waiting for approval: ' + e.message); loadApprovals(); break; }
    case 'approval-granted': case 'approval-denied': { const s = step({ id: e.stepId }); log(s, (e.type === 'approval-granted' ? 'approved by ' : 'rejected by ') + e.by); if (s.status === 'waiting') show(s, 'running'); removeApproval(e.stepId); break; }
    case 'rto-exceeded': log(null, 'RTO exceeded: ' + fmt(e.elapsedMs) + ' of ' + fmt(e.rtoMs), 'warn'); break;
    case 'fault-injected': log(null, 'fault ' + e.kind + ' on ' + e.node + ': ' + e.detail, 'warn'); break;
    case 'fault-reverted': log(null, 'fault ' + e.kind + ' on ' + e.node + ' reverted' + (e.error ? ': ' + e.error : ''), e.error ? 'warn' : ''); break;
    case 'drill-finished': log(null, 'drill ' + e.verdict + (e.reasons.length ? ': ' + e.reasons.join('; ') : '')); break;
    case 'run-stopped': setStatus('stopped'); log(null, 'stopped: ' + e.reason + ' (resumable)', 'warn'); break;
    case 'run-finished': setStatus(e.status); if (e.error) log(null, e.error, e.status === 'succeeded' ? '' : 'warn'); break;
  }
}
function removeApproval(stepId) { const box = approvals.querySelector('[data-step="' + CSS.escape(stepId) + '"]'); if (box) box.remove(); }
async function answer(p, approved, reason, out) {
  out.textContent = 'sending…';
  const res = await fetch(base + '/approvals', { method: 'POST', headers: { 'content-type': 'application/json', 'x-drillbook-csrf': csrf }, body: JSON.stringify({ stepId: p.stepId, id: p.id, approved: approved, reason: reason || undefined }) });
  const body = await res.json().catch(() => ({}));
  out.textContent = body.text || body.error || ('HTTP ' + res.status);
}
let loading;
async function loadApprovals(tries = 20) {
  const res = await fetch(base + '/approvals');
  const pending = res.ok ? await res.json() : [];
  for (const p of pending) {
    if (approvals.querySelector('[data-step="' + CSS.escape(p.stepId) + '"]')) continue;
    const box = el('div', 'approval'); box.dataset.step = p.stepId;
    box.append(el('p', '', 'Approval needed at ' + p.stepId + ': ' + p.message));
    const reason = el('input'); reason.placeholder = 'reason (optional)'; reason.name = 'reason';
    const yes = el('button', 'approve', 'Approve'); const no = el('button', 'reject', 'Reject');
    const out = el('span', 'answer');
    yes.onclick = () => answer(p, true, reason.value, out); no.onclick = () => answer(p, false, reason.value, out);
    box.append(reason, ' ', yes, ' ', no, out);
    approvals.append(box);
  }
  const asked = [...steps.values()].some((s) => s.status === 'waiting');
  if (asked && !pending.length && tries > 0) { clearTimeout(loading); loading = setTimeout(() => loadApprovals(tries - 1), 300); }
}
setInterval(() => { const now = Date.now() + offset; for (const s of steps.values()) if (s.status === 'running' || s.status === 'waiting') if (s.start !== undefined) tick(s, now - s.start); }, 200);
const source = new EventSource(base + '/events');
source.addEventListener('hello', (m) => { offset = JSON.parse(m.data).now - Date.now(); });
source.onmessage = (m) => handle(JSON.parse(m.data));
source.addEventListener('end', () => source.close());
`;
