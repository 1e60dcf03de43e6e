// One line of text per run event, shared by the plain view and the live view's log.
import { formatDuration } from '../../duration.js';
import { metWord, rtoLabelOf, verdictWord } from '../../schema/drill-outcome.js';
import { unhandledEvent } from '../../schema/events.js';
import type { RunEvent } from '../events.js';

const ofBudget = (ms: number, budget?: number) =>
  budget === undefined ? formatDuration(ms) : `${formatDuration(ms)} of ${formatDuration(budget)}`;

/** The probe live: what clients saw so far (also the live view's running line). */
export const probeStatus = (e: { sent: number; acked: number; outageMs: number }) =>
  `probe: ${e.acked}/${e.sent} writes acknowledged${e.outageMs > 0 ? `, clients down for ${formatDuration(e.outageMs)}` : ''}`;

export function describeEvent(e: RunEvent): string | undefined {
  switch (e.type) {
    case 'run-started':
      return `run ${e.runId}: ${e.runbook.name} on ${e.environment.name} (${e.environment.label}) by ${e.operator}${e.rtoMs ? `, RTO ${formatDuration(e.rtoMs)}` : ''}`;
    case 'run-resumed':
      return `run ${e.runId} resumed by ${e.operator}: ${e.restored.length} step(s) already done${e.interrupted ? `; interrupted step ${e.interrupted.stepId}: ${e.interrupted.decision}` : ''}`;
    case 'step-started':
      return `▶ ${e.stepId} [${e.kind}]${e.phase === 'rollback' ? ' (rollback)' : ''}${e.budgetMs !== undefined ? ` budget ${formatDuration(e.budgetMs)}` : ''}${e.timeoutMs !== undefined ? ` timeout ${formatDuration(e.timeoutMs)}` : ''}`;
    case 'step-attempt-failed':
      return `  ${e.stepId}: attempt ${e.attempt} failed: ${e.error}${e.willRetry ? ` (retrying in ${formatDuration(e.delayMs ?? 0)})` : ''}`;
    case 'step-finished': {
      const wait = e.waitMs > 0 ? `, waited ${formatDuration(e.waitMs)} for approval` : '';
      if (e.status === 'succeeded')
        return `✔ ${e.stepId} ${formatDuration(e.durationMs)}${wait}${e.alreadyDone ? ' (already done)' : ''}`;
      return `✖ ${e.stepId} failed after ${formatDuration(e.durationMs)} (${e.attempts} attempt(s))${wait}: ${e.error}${e.continued ? ' (continuing: continueOnError)' : ''}`;
    }
    case 'step-skipped':
      return `↓ ${e.stepId} skipped (${e.reason === 'when' ? `when: ${e.detail}` : e.detail})`;
    case 'budget-exceeded':
      return `⚠ ${e.stepId} is over its budget: ${ofBudget(e.elapsedMs, e.budgetMs)}`;
    case 'rto-exceeded':
      return `⚠ RTO exceeded: ${ofBudget(e.elapsedMs, e.rtoMs)}`;
    case 'child-started':
      return undefined; // for resume to find orphans, not for people
    case 'rollback-started':
      return `↺ rollback after ${e.failedStep} failed: ${e.steps.map((s) => s.id).join(', ')}`;
    case 'approval-requested':
      return `? ${e.stepId}: ${e.message}`;
    case 'approval-granted':
      return `  ${e.stepId}: approved by ${e.by}`;
    case 'approval-denied':
      return `  ${e.stepId}: denied by ${e.by}`;
    case 'log':
      return `  ${e.stepId ? `${e.stepId}: ` : ''}${e.level === 'warn' ? 'warning: ' : ''}${e.message}`;
    case 'drill-started':
      return `drill ${e.drill.name}: fault ${e.fault.kind} on ${e.fault.node}, probe via ${e.probe.route} every ${formatDuration(e.probe.intervalMs)}${e.probe.clients?.length ? `, clients ${e.probe.clients.join('; ')}` : ''}; objectives RTO ${formatDuration(e.objectives.rtoMs)}, RPO ${e.objectives.rpoRows} row(s)`;
    case 'drill-triggered':
      return e.trigger === 'alert'
        ? `runbook started by alert ${e.alertname ?? ''} (firing ${e.firingAt ?? '?'}, webhook ${e.receivedAt ?? '?'}): run ${e.alertRun ?? '?'}`
        : `runbook started by ${e.by ?? 'a person'}`;
    case 'steady-state':
      return `steady state: ${e.healthy ? 'healthy' : `NOT healthy: ${e.problems.join('; ')}`}`;
    case 'fault-injected':
      return `⚡ fault ${e.kind} on ${e.node}: ${e.detail}`;
    case 'fault-reverted':
      return e.error
        ? `⚠ fault ${e.kind} on ${e.node} NOT reverted: ${e.error}`
        : `fault ${e.kind} on ${e.node} reverted: ${e.detail}`;
    case 'probe-progress':
      return `  ${probeStatus(e)}`;
    case 'drill-finished': {
      const f = e.figures;
      const rto = f.rtoMs === undefined ? 'never recovered' : ofBudget(f.rtoMs, e.objectives.rtoMs);
      const why = e.reasons.length ? `: ${e.reasons.join('; ')}` : '';
      const profile = f.profile ? ` (${f.profile})` : '';
      return `drill ${verdictWord(e.verdict)}${why} — ${rtoLabelOf(f.rtoBasis)}${profile} ${rto}, RPO ${f.rpoRows} of ${e.objectives.rpoRows} row(s)`;
    }
    case 'run-stopped':
      return `run stopped after ${formatDuration(e.durationMs)}: ${e.reason}; it is resumable (drillbook resume)`;
    case 'run-finished': {
      const rto = e.rtoMs === undefined ? '' : `; RTO ${formatDuration(e.rtoMs)} ${metWord(e.rtoMet)}`;
      const why = e.failedStep ? ` at ${e.failedStep}: ${e.error}` : '';
      return `run ${e.status}${why} in ${formatDuration(e.durationMs)}${rto}`;
    }
    default:
      return unhandledEvent(e);
  }
}
