// notify: tell the team — a Slack thread per run, or a generic JSON webhook. What is sent goes
// through the run's redactor first (the Slack connector does it for Slack).
import { Type } from '@sinclair/typebox';
import { UserError } from '../errors.js';
import { requestText } from '../connectors/http.js';
import { readSlackThread, saveSlackThread, slackThreadFile } from '../connectors/slack-thread.js';
import { Strict, Text, OneOf } from '../schema/common.js';
import { defineAction, type ActionContext } from './types.js';

type Severity = 'info' | 'warning' | 'critical';

const EMOJI: Record<Severity, string> = {
  info: ':information_source:',
  warning: ':warning:',
  critical: ':rotating_light:',
};

export const notify = defineAction({
  kind: 'notify',
  summary: 'post to the run’s Slack thread (or a JSON webhook)',
  schema: Strict({
    text: Text('message; expressions allowed'),
    channel: Type.Optional(Type.String({ description: 'overrides the environment’s Slack channel' })),
    to: Type.Optional(OneOf(['slack', 'webhook'], { default: 'slack' })),
    url: Type.Optional(Text('webhook URL (to: webhook)')),
    severity: Type.Optional(OneOf(['info', 'warning', 'critical'], { default: 'info' })),
  }),
  outputs: Strict({
    to: OneOf(['slack', 'webhook']),
    channel: Type.Optional(Type.String()),
    ts: Type.Optional(Type.String({ description: 'the Slack message timestamp' })),
    threadTs: Type.Optional(
      Type.String({ description: "the run's thread (every message of a run goes there)" }),
    ),
    thread: Type.Optional(OneOf(['opened', 'reply'])),
    url: Type.Optional(Type.String({ description: 'the webhook origin posted to' })),
  }),
  example: {
    id: 'tell',
    with: { text: 'Failover of ${{ env.name }} started: ${{ inputs.reason }}', severity: 'warning' },
  },
  async run(ctx, input) {
    const severity = input.severity ?? 'info';
    return (input.to ?? 'slack') === 'webhook'
      ? postWebhook(ctx, input.url, input.text, severity)
      : postSlack(ctx, input.channel, input.text, severity);
  },
  async dryRun(ctx, input) {
    if (input.to === 'webhook') return `would POST the message to a webhook: ${input.text}`;
    const channel = input.channel ?? ctx.env.slack?.channel ?? '(no Slack channel)';
    return `would post to Slack ${channel} in the run's thread: ${input.text}`;
  },
});

async function postSlack(
  ctx: ActionContext,
  channelOverride: string | undefined,
  text: string,
  severity: Severity,
) {
  const slack = ctx.env.slack;
  if (!slack)
    throw new UserError(`notify: environment ${ctx.env.name} has no slack section in the inventory`);
  const channel = channelOverride ?? slack.channel;
  const { slackPoster } = await import('../connectors/slack.js');
  const poster = await slackPoster(slack, {
    secret: ctx.secret,
    redactor: ctx.redactor,
    signal: ctx.signal,
    log: ctx.log,
  });
  const file = slackThreadFile(ctx.runId, ctx.stateDir);
  const thread = await readSlackThread(file, channel);
  const posted = await poster.post({
    channel: thread?.channel ?? channel,
    text: `${EMOJI[severity]} ${text}`,
    blocks: blocks(ctx, text, severity),
    threadTs: thread?.ts,
  });
  if (!thread) await saveSlackThread(file, channel, posted);
  return {
    to: 'slack' as const,
    channel: posted.channel,
    ts: posted.ts,
    threadTs: thread?.ts ?? posted.ts,
    thread: thread ? ('reply' as const) : ('opened' as const),
  };
}

/** Block Kit: the message, then a context line saying where it comes from. */
function blocks(ctx: ActionContext, text: string, severity: Severity): unknown[] {
  return [
    { type: 'section', text: { type: 'mrkdwn', text } },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `${EMOJI[severity]} *${severity}* · environment *${ctx.env.name}* (${ctx.env.label}) · run \`${ctx.runId}\` · step \`${ctx.stepId}\``,
        },
      ],
    },
  ];
}

async function postWebhook(ctx: ActionContext, url: string | undefined, text: string, severity: Severity) {
  if (!url) throw new UserError('notify: to: webhook needs "url"');
  let origin: string;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error(parsed.protocol);
    origin = parsed.origin;
  } catch {
    throw new UserError('notify: "url" must be an http(s) URL');
  }
  // Only the origin is named: webhook paths often carry the secret (Slack, Teams, PagerDuty keys).
  await requestText(`webhook ${origin}`, {
    method: 'POST',
    url,
    body: ctx.redactor.redact({
      text,
      severity,
      environment: ctx.env.name,
      runId: ctx.runId,
      stepId: ctx.stepId,
    }),
    signal: ctx.signal,
  });
  return { to: 'webhook' as const, url: origin };
}
