// POST /hooks/slack/actions: a click on an approval button (an interactive `block_actions` payload).
// Signed by Slack (v0, at most 5 minutes old), from a user on the environment's allow-list, for a
// pending approval whose single-use id it carries; the first answer wins, a replay changes nothing.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { slackRefusal } from '../connectors/slack-signature.js';
import { answerApproval, pendingApproval } from '../engine/approval-box.js';
import type { Inventory } from '../schema/inventory.js';
import { privateDir, runDir } from '../system/run-paths.js';
import type { Output } from '../system/output.js';
import { APPROVE_ACTION, REJECT_ACTION } from '../report/slack-approval.js';
import type { HookAnswer } from './alert-hook.js';
import type { ServeMetrics } from './metrics.js';

export interface SlackActionsContext {
  stateDir: string;
  inventory: Inventory;
  /** The signing secrets of the environments with Slack. */
  signingSecrets: readonly string[];
  metrics: ServeMetrics;
  io: Output;
  /** Writes a warning into a running run's journal (a refused click), when this process runs it. */
  noteToRun(runId: string, message: string): void;
}

export interface Click {
  approved: boolean;
  runId: string;
  stepId: string;
  id: string;
  user: string;
  userName?: string;
  reason?: string;
}

function clickOf(body: string): Click | string {
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(new URLSearchParams(body).get('payload') ?? '') as Record<string, unknown>;
  } catch {
    return 'the body must carry a JSON payload field';
  }
  if (payload.type !== 'block_actions') return `unsupported interaction ${JSON.stringify(payload.type)}`;
  const action = (Array.isArray(payload.actions) ? payload.actions[0] : undefined) as
    { action_id?: unknown; value?: unknown } | undefined;
  const user = (payload.user ?? {}) as { id?: unknown; username?: unknown; name?: unknown };
  if (!action || (action.action_id !== APPROVE_ACTION && action.action_id !== REJECT_ACTION))
    return 'not a drillbook approval button';
  const [runId, stepId, id] = typeof action.value === 'string' ? action.value.split(' ') : [];
  if (!runId || !stepId || !id || typeof user.id !== 'string') return 'incomplete approval payload';
  const name = user.username ?? user.name;
  return {
    approved: action.action_id === APPROVE_ACTION,
    runId,
    stepId,
    id,
    user: user.id,
    userName: typeof name === 'string' ? name : undefined,
  };
}

export function handleSlackAction(
  c: SlackActionsContext,
  headers: Record<string, string | string[] | undefined>,
  body: string,
): HookAnswer {
  const refusal = slackRefusal(
    c.signingSecrets,
    {
      timestamp: headers['x-slack-request-timestamp'] as string | undefined,
      signature: headers['x-slack-signature'] as string | undefined,
    },
    body,
  );
  if (refusal) {
    c.metrics.approvalAnswered('unauthenticated');
    return { status: 401, body: { error: refusal } };
  }
  const click = clickOf(body);
  if (typeof click === 'string') return { status: 400, body: { error: click } };
  return decideApproval(c, click, 'slack');
}

/**
 * An approval answered by a person: a Slack click or the web page (`via`). The same rules for both:
 * the pending approval's single-use id, the environment's approvers allow-list, four eyes, the first
 * answer wins; each attempt is recorded beside the run's approvals and refusals in its journal.
 */
export function decideApproval(
  c: Omit<SlackActionsContext, 'signingSecrets'>,
  click: Click,
  via: 'slack' | 'web',
): HookAnswer {
  let pending;
  try {
    pending = pendingApproval(c.stateDir, click.runId, click.stepId);
  } catch {
    pending = undefined; // an invalid run id
  }
  if (!pending || pending.id !== click.id) return { status: 404, body: { error: 'no such approval' } };
  const who = `${click.user}${click.userName ? ` (${click.userName})` : ''}`;
  const env = c.inventory.environments[pending.environment];
  const record = (outcome: string, detail: string) => {
    appendFileSync(
      join(privateDir(join(runDir(c.stateDir, click.runId), 'approvals')), 'clicks.jsonl'),
      JSON.stringify({
        at: new Date().toISOString(),
        stepId: click.stepId,
        user: click.user,
        via,
        outcome,
        detail,
      }) + '\n',
      { mode: 0o600 },
    );
    c.io.out(
      JSON.stringify({
        event: 'approval-click',
        runId: click.runId,
        stepId: click.stepId,
        user: click.user,
        outcome,
        detail,
      }),
    );
  };
  if (!env?.slack?.approvers?.includes(click.user)) {
    const why = `approval ${via === 'slack' ? 'click' : 'from the web page'} by ${who} refused: not on the approvers allow-list of ${pending.environment}`;
    record('refused', why);
    c.noteToRun(click.runId, why);
    c.metrics.approvalAnswered('refused');
    return { status: 403, body: { error: why } };
  }
  const answer = answerApproval(
    c.stateDir,
    click.runId,
    click.stepId,
    { approved: click.approved, by: who, via, reason: click.reason },
    { id: click.id },
  );
  if (answer.outcome === 'recorded') {
    const what = click.approved ? 'approved' : 'rejected';
    record(what, `${what} by ${who}`);
    c.metrics.approvalAnswered(what);
    return { status: 200, body: { text: `${click.stepId} ${what} by ${who}` } };
  }
  if (answer.outcome === 'refused') {
    record('refused', answer.why);
    c.noteToRun(click.runId, answer.why);
    c.metrics.approvalAnswered('refused');
    return { status: 403, body: { error: answer.why } };
  }
  if (answer.outcome === 'already-answered') {
    record('replayed', 'already answered; no effect');
    c.metrics.approvalAnswered('replayed');
    return { status: 200, body: { text: `${click.stepId} was already answered; nothing changed` } };
  }
  return { status: 404, body: { error: 'no such approval' } };
}
