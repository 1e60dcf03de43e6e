// The approval question with Approve and Reject buttons, posted in the run's Slack thread: a run
// that drillbook serve started, or a drill waiting for a person to start its runbook. A click comes
// back through serve's /hooks/slack/actions.
import type { Redactor } from '../connectors/redact.js';
import { slackPoster } from '../connectors/slack.js';
import { readSlackThread, slackThreadFile } from '../connectors/slack-thread.js';
import type { PendingApproval } from '../engine/approval-box.js';
import type { Slack } from '../schema/inventory.js';

export const APPROVE_ACTION = 'drillbook-approve';
export const REJECT_ACTION = 'drillbook-reject';

/** What a Slack button carries: which approval of which run (the id is the single-use secret part). */
export const buttonValue = (p: PendingApproval) => `${p.runId} ${p.stepId} ${p.id}`;

/** The approval question with Approve and Reject buttons, in the run's thread. */
export async function postApprovalButtons(
  slack: Slack,
  p: PendingApproval,
  stateDir: string,
  redactor: Redactor,
) {
  const poster = await slackPoster(slack, { secret: (ref) => redactor.resolve(ref), redactor });
  const thread = await readSlackThread(slackThreadFile(p.runId, stateDir), slack.channel);
  const text = `Approval needed for run ${p.runId}, step ${p.stepId}: ${p.message}`;
  await poster.post({
    channel: thread?.channel ?? slack.channel,
    threadTs: thread?.ts,
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      {
        type: 'actions',
        block_id: `approval-${p.stepId}`.slice(0, 255),
        elements: [
          {
            type: 'button',
            action_id: APPROVE_ACTION,
            style: 'primary',
            text: { type: 'plain_text', text: 'Approve' },
            value: buttonValue(p),
          },
          {
            type: 'button',
            action_id: REJECT_ACTION,
            style: 'danger',
            text: { type: 'plain_text', text: 'Reject' },
            value: buttonValue(p),
          },
        ],
      },
    ],
  });
}
