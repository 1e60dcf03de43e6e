// A run's Slack thread, live: a header message kept current in place (status, elapsed time against
// the RTO), step results as replies, and a Block Kit summary at the end. It shares the run's thread
// with the notify action (the same thread file and connector). Slack is never on the critical
// path: every call is queued, header updates are throttled, and failures become warnings.
import {
  readSlackThread,
  saveSlackThread,
  slackThreadFile,
  type SlackThread,
} from '../connectors/slack-thread.js';
import type { SlackPoster } from '../connectors/slack.js';
import type { RunEvent, Subscriber } from '../engine/events.js';
import type { Redactor } from '../connectors/redact.js';
import { describeEvent } from '../engine/views/describe.js';
import type { Slack } from '../schema/inventory.js';
import { backupSummaryLines } from './backup-tables.js';
import type { Report } from './schema.js';
import { runHeader, slackIcon, slackText } from './slack-header.js';
import { slackQueue } from './slack-queue.js';
import { clientLine } from '../schema/drill-outcome.js';
import { dur, headline, metWord, ofLimit, outcomeOf, rows, rtoLabel } from './text.js';

export type SlackVerbosity = 'all' | 'failures' | 'summary';

export interface RunThreadOptions {
  slack: Slack;
  runId: string;
  stateDir: string;
  runbook: string;
  environment: { name: string; label: string };
  rtoMs?: number;
  /** When the run first started (a resumed run counts from then). */
  startedAt: number;
  /** Resolves secret references and registers them for redaction. */
  secret(ref: string): Promise<string>;
  /** The run's redactor: every message goes through it (the header names the run, free text). */
  redactor: Redactor;
  /** A Slack problem, said once as a run warning (never a failure). */
  warn(message: string): void;
  verbosity?: SlackVerbosity;
  /** At most one header update per this many ms (chat.update is rate limited per channel). */
  updateEveryMs?: number;
  /** The header is refreshed this often while the run goes on, so its elapsed time stays true. */
  tickMs?: number;
  /** How long the run waits for the header before it starts anyway. */
  openTimeoutMs?: number;
  /** How long the end of the run waits for the summary. */
  closeTimeoutMs?: number;
}

export interface RunThread {
  subscriber: Subscriber;
  /** Final header and the summary (from the report when there is one); never throws. */
  close(report?: Report, location?: string): Promise<void>;
}

/** Replies use the terminal's wording; these events are for the header or the summary instead. */
const NOT_REPLIED = new Set<RunEvent['type']>([
  'run-started',
  'run-resumed',
  'run-finished',
  'step-started',
  'log',
  'probe-progress',
  'drill-started',
  'drill-finished',
]);
const FAILURE_EVENTS = new Set<RunEvent['type']>([
  'budget-exceeded',
  'rto-exceeded',
  'rollback-started',
  'approval-requested',
  'approval-denied',
]);

function wanted(e: RunEvent, verbosity: SlackVerbosity): boolean {
  if (verbosity === 'summary' || NOT_REPLIED.has(e.type)) return false;
  if (verbosity === 'all') return true;
  if (e.type === 'step-finished') return e.status === 'failed';
  if (e.type === 'fault-reverted') return e.error !== undefined;
  return FAILURE_EVENTS.has(e.type);
}

const withTimeout = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([
    promise,
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms).unref()),
  ]);

export async function openRunThread(o: RunThreadOptions): Promise<RunThread> {
  const verbosity = o.verbosity ?? 'all';
  const file = slackThreadFile(o.runId, o.stateDir);
  const headerKey = `${o.slack.channel} header`;
  const head = runHeader(o);
  const calls = slackQueue(o.warn);
  let poster: SlackPoster | undefined;
  let thread: SlackThread | undefined;
  let header: SlackThread | undefined;

  const open = calls.enqueue('opening the run’s thread', async () => {
    const { slackPoster } = await import('../connectors/slack.js');
    poster = await slackPoster(o.slack, { secret: o.secret, redactor: o.redactor, log: () => undefined });
    thread = await readSlackThread(file, o.slack.channel);
    header = await readSlackThread(file, headerKey);
    if (header) return updateHeader();
    // A thread the notify action opened keeps its first message: the header becomes a reply in it.
    const posted = await poster.post({
      channel: thread?.channel ?? o.slack.channel,
      text: head.text(),
      blocks: head.blocks(),
      threadTs: thread?.ts,
    });
    header = posted;
    await saveSlackThread(file, headerKey, posted);
    if (!thread) {
      thread = posted;
      await saveSlackThread(file, o.slack.channel, posted);
    }
  });

  async function updateHeader() {
    if (poster && header) await poster.update({ ...header, text: head.text(), blocks: head.blocks() });
  }

  // Throttled header updates: at most one per updateEveryMs; changes in between are coalesced.
  const every = o.updateEveryMs ?? 3000;
  let lastUpdate = 0;
  let pending: NodeJS.Timeout | undefined;
  const refresh = () => {
    if (pending) return;
    const wait = Math.max(0, lastUpdate + every - Date.now());
    pending = setTimeout(() => {
      pending = undefined;
      lastUpdate = Date.now();
      void calls.enqueue('updating the header', updateHeader);
    }, wait);
    pending.unref();
  };
  const ticker = setInterval(refresh, o.tickMs ?? 30_000);
  ticker.unref();

  const reply = (text: string, blocks?: unknown[]) =>
    calls.enqueue('posting to the run’s thread', async () => {
      if (poster && thread) await poster.post({ channel: thread.channel, threadTs: thread.ts, text, blocks });
    });

  const subscriber: Subscriber = (e) => {
    if (head.observe(e)) refresh();
    if (!wanted(e, verbosity)) return;
    const text = describeEvent(e);
    if (text) void reply(slackText(text.trim()));
  };

  await withTimeout(open, o.openTimeoutMs ?? 3000);
  return {
    subscriber,
    async close(report, location) {
      clearInterval(ticker);
      clearTimeout(pending);
      void calls.enqueue('updating the header', updateHeader);
      void reply(summaryText(report, head.status()), summaryBlocks(o.runId, report, location));
      await withTimeout(calls.idle(), o.closeTimeoutMs ?? 15_000);
    },
  };
}

const summaryText = (r: Report | undefined, status: string) =>
  r ? `${slackIcon(outcomeOf(r))} ${headline(r)}` : `Run ${status}`;

/** The end of the run in Block Kit: outcome, RTO/RPO against objectives, where the report is. */
export function summaryBlocks(runId: string, r: Report | undefined, location?: string): unknown[] {
  const field = (title: string, value: string) => ({
    type: 'mrkdwn',
    text: `*${title}*\n${slackText(value)}`,
  });
  const fields = r
    ? [
        field('Status', r.run.status + (r.run.failedStep ? ` at ${r.run.failedStep}` : '')),
        field('Run duration', `${ofLimit(r.rto.actualMs, r.rto.objectiveMs)} ${metWord(r.rto.met)}`.trim()),
        ...(r.drill
          ? [
              field(
                rtoLabel(r.drill),
                `${dur(r.drill.rto.actual)} / objective ${dur(r.drill.rto.objective)} ${metWord(r.drill.rto.met)}`,
              ),
              field(
                'RPO (rows lost)',
                `${rows(r.drill.rpo.actual)} / objective ${rows(r.drill.rpo.objective)} ${metWord(r.drill.rpo.met)}`,
              ),
            ]
          : []),
        field('Approval waits', `${dur(r.approvalWaitMs)} (counted apart)`),
        field('Budget misses', r.budgetMisses.map((m) => m.stepId).join(', ') || 'none'),
      ]
    : [];
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: summaryText(r, 'finished').slice(0, 150) } },
  ];
  if (fields.length) blocks.push({ type: 'section', fields });
  const reasons = [
    ...(r?.run.error ? [`${r.run.failedStep}: ${r.run.error}`] : []),
    ...(r?.drill?.reasons ?? []),
  ];
  const clients = r?.drill?.clients ?? [];
  if (clients.length)
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: slackText(
          [
            `*Clients* (judged: ${r?.drill?.profile ?? clients[0]!.name})`,
            ...clients.map((c) => `• ${clientLine(c)}`),
          ].join('\n'),
        ),
      },
    });
  const backups = r?.backups ? backupSummaryLines(r.backups, slackIcon) : [];
  if (backups.length)
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: slackText(backups.join('\n')) } });
  if (reasons.length)
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: slackText(reasons.map((x) => `• ${x}`).join('\n')) },
    });
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: `run \`${runId}\`${location ? ` · report ${slackText(location)}` : ' · no report was written'}`,
      },
    ],
  });
  return blocks;
}
