// A run started by an alert: the standard journal and evidence (reports, the Slack thread), the
// alert named in the journal header, the report and the thread, and approvals answered from
// outside (Slack buttons, `drillbook approve`) unless the trigger says auto.
import { journal, evidence } from '../compose/session.js';
import { slackPoster } from '../connectors/slack.js';
import { readSlackThread, slackThreadFile } from '../connectors/slack-thread.js';
import type { Redactor } from '../connectors/redact.js';
import { errorMessage, exitCodeFor } from '../errors.js';
import { boxAsk } from '../engine/approval-box.js';
import { postApprovalButtons } from '../report/slack-approval.js';
import type { AskApproval } from '../engine/approvals.js';
import { describeTrigger, type RunTrigger } from '../engine/journal.js';
import type { RunEmitter } from '../engine/events.js';
import { newRun } from '../engine/new-run.js';
import { runSession, type Attach } from '../engine/session.js';
import { prepareRun } from '../runbook/prepare.js';
import type { Slack } from '../schema/inventory.js';
import type { Output } from '../system/output.js';
import type { ServeMetrics } from './metrics.js';
import type { Alert, Planned } from './triggers.js';

export interface AlertRunContext {
  stateDir: string;
  inventoryFile?: string;
  /** Where reports go (default reports/ under the working directory). */
  reportsDir?: string;
  metrics: ServeMetrics;
  io: Output;
  /**
   * The event stream of each run in progress, by run id: where serve writes into a run's journal (a
   * refused click), and what a live view (server-sent events) can subscribe to.
   */
  live: Map<string, RunEmitter>;
  /** Aborted by a second SIGTERM, or the first with --on-stop interrupt: the run stops resumably. */
  stop: AbortSignal;
}

export function runTriggerOf(planned: Planned, alert: Alert): RunTrigger {
  return {
    kind: 'alert',
    name: planned.trigger.name,
    alertname: alert.labels.alertname,
    fingerprint: alert.fingerprint,
    startsAt: alert.startsAt,
    status: alert.status,
    labels: alert.labels,
  };
}

/** Prepares the run (bad input throws here, nothing started) and returns its id and completion. */
export function startAlertRun(
  planned: Planned,
  alert: Alert,
  c: AlertRunContext,
): { runId: string; done: Promise<number> } {
  const prepared = prepareRun({
    runbookFile: planned.runbookFile,
    inventoryFile: c.inventoryFile,
    envName: planned.environment,
    inputs: planned.inputs,
  });
  const { spec, header } = newRun(prepared, planned.runbookFile);
  const trigger = runTriggerOf(planned, alert);
  const approval = planned.trigger.approval ?? (spec.env.label === 'production' ? 'required' : 'auto');
  const slack = spec.env.slack;
  let redactor: Redactor | undefined;
  const ask: AskApproval =
    approval === 'auto'
      ? async () => ({ approved: true, by: `auto (trigger ${trigger.name}, ${spec.env.label})` })
      : waiting(
          boxAsk({
            stateDir: c.stateDir,
            runId: spec.runId,
            environment: spec.env.name,
            requester: spec.operator,
            fourEyes: slack?.fourEyes === true,
            // A Slack outage never blocks the approval: `drillbook approve` still answers it.
            announce: async (p) => {
              if (!slack || !redactor) return;
              await postApprovalButtons(slack, p, c.stateDir, redactor).catch((err: unknown) =>
                warnRun(
                  c,
                  p.runId,
                  `approval buttons not posted: ${errorMessage(err)}; answer with drillbook approve ${p.runId} ${p.stepId}`,
                ),
              );
            },
          }),
          c.metrics,
        );
  const alertNote: Attach = async ({ emitter, runId, stateDir }) => {
    redactor = emitter.redactor;
    c.live.set(runId, emitter);
    emitter.emit({ type: 'log', level: 'info', message: `started by ${describeTrigger(trigger)}` });
    if (slack)
      await postInThread(
        slack,
        runId,
        stateDir,
        emitter.redactor,
        `Started by ${describeTrigger(trigger)}`,
      ).catch((err: unknown) => warnRun(c, runId, `Slack: ${errorMessage(err)}`));
    return {};
  };
  c.metrics.runStarted();
  const done = runSession(
    spec,
    {
      stateDir: c.stateDir,
      ask,
      stopSignal: c.stop,
      // The process's signals belong to serve; a run never reads them itself.
      signal: new AbortController().signal,
      attach: [
        journal({ ...header, trigger }),
        evidence(spec, { stateDir: c.stateDir, reportsDir: c.reportsDir }, c.io),
        alertNote,
      ],
    },
    c.io,
  )
    .finally(() => c.live.delete(spec.runId))
    .then(
      (code) => {
        c.metrics.runEnded(code === 0 ? 'succeeded' : 'failed');
        return code;
      },
      (err: unknown) => {
        c.metrics.runEnded('error');
        c.io.err(`run ${spec.runId}: ${errorMessage(err)}`);
        return exitCodeFor(err);
      },
    );
  return { runId: spec.runId, done };
}

/** A warning in a running run's journal (and whatever else follows its events). */
export const warnRun = (c: Pick<AlertRunContext, 'live'>, runId: string, message: string) =>
  c.live.get(runId)?.emit({ type: 'log', level: 'warn', message });

/** Counts the approvals waiting now and how long each waited (the metrics). */
function waiting(ask: AskApproval, metrics: ServeMetrics): AskApproval {
  return async (request, signal) => {
    metrics.approvalWaiting(1);
    const start = performance.now();
    try {
      return await ask(request, signal);
    } finally {
      metrics.approvalWaiting(-1);
      metrics.approvalWaited(performance.now() - start);
    }
  };
}

async function postInThread(slack: Slack, runId: string, stateDir: string, redactor: Redactor, text: string) {
  const poster = await slackPoster(slack, { secret: (ref) => redactor.resolve(ref), redactor });
  const thread = await readSlackThread(slackThreadFile(runId, stateDir), slack.channel);
  await poster.post({ channel: thread?.channel ?? slack.channel, threadTs: thread?.ts, text });
}
