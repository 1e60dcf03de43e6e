// The header message of a run's Slack thread: status, elapsed time against the RTO, the step or
// the probe now, kept current from the run's events.
import { formatDuration } from '../duration.js';
import type { RunEvent } from '../engine/events.js';
import { probeStatus } from '../engine/views/describe.js';
import { unhandledEvent } from '../schema/events.js';

/** Slack's mrkdwn treats &, < and > as markup. */
export const slackText = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

// Slack shortcodes: Slack draws its own emoji images, whatever fonts the reader's machine has.
const ICONS: Record<string, string> = {
  running: ':arrow_forward:',
  succeeded: ':white_check_mark:',
  pass: ':white_check_mark:',
  failed: ':x:',
  fail: ':x:',
  interrupted: ':stop_button:',
  aborted: ':stop_button:',
  'rolling back': ':leftwards_arrow_with_hook:',
};

/** A run's, a drill's or a step's status as a Slack emoji shortcode. */
export const slackIcon = (status: string) => ICONS[status] ?? ':grey_question:';

export function runHeader(o: {
  runId: string;
  runbook: string;
  environment: { name: string; label: string };
  rtoMs?: number;
  /** When the run first started (a resumed run counts from then). */
  startedAt: number;
}) {
  const state = {
    status: 'running',
    step: '',
    drill: '',
    probe: '',
    durationMs: undefined as number | undefined,
  };
  const text = () => {
    const elapsed = state.durationMs ?? Date.now() - o.startedAt;
    const rto =
      o.rtoMs === undefined
        ? formatDuration(elapsed)
        : `${formatDuration(elapsed)} of RTO ${formatDuration(o.rtoMs)}`;
    const icon = slackIcon(state.status);
    const now = state.status === 'running' && state.step ? ` — ${state.step}` : '';
    const drill = state.drill ? `Drill ${state.drill}: ` : '';
    const probe = state.probe ? ` — ${state.probe}` : '';
    return `${icon} ${slackText(`${drill}*${o.runbook}* on *${o.environment.name}* (${o.environment.label}) — ${state.status} — ${rto}${now}${probe}`)}`;
  };
  return {
    /** The run's status as the header shows it. */
    status: () => state.status,
    text,
    blocks: () => [
      { type: 'section', text: { type: 'mrkdwn', text: text() } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `run \`${o.runId}\`` }] },
    ],
    /** Takes what the header shows from an event; true when the header changed. */
    observe(e: RunEvent): boolean {
      switch (e.type) {
        case 'step-started':
          state.step = e.stepId;
          return true;
        case 'rollback-started':
          state.status = 'rolling back';
          return true;
        case 'drill-started':
          state.drill = e.drill.name;
          return true;
        case 'probe-progress':
          state.probe = probeStatus(e);
          return true;
        case 'run-finished':
          state.status = e.status;
          state.durationMs = e.durationMs;
          return true;
        // The rest change nothing in the status message; some are posted to the thread.
        case 'run-started':
        case 'run-resumed':
        case 'step-attempt-failed':
        case 'step-finished':
        case 'step-skipped':
        case 'child-started':
        case 'budget-exceeded':
        case 'rto-exceeded':
        case 'approval-requested':
        case 'approval-granted':
        case 'approval-denied':
        case 'log':
        case 'drill-triggered':
        case 'steady-state':
        case 'fault-injected':
        case 'fault-reverted':
        case 'drill-finished':
        case 'run-stopped':
          return false;
        default:
          return unhandledEvent(e);
      }
    },
  };
}
