// Journal -> report model. Only the journal is read, so any report can be rebuilt later and two
// builds of the same journal are identical (no "generated at" in the model).
import type { RunEvent, StepSummary } from '../engine/events.js';
import { unhandledEvent } from '../schema/events.js';
import { describeTrigger, scanJournal, type Journal, type JournalHeader } from '../engine/journal.js';
import { BackupFigures } from './backup-figures.js';
import { CloudEvents } from './cloud-events.js';
import { applyFigures, finishDrill, startedDrill, type Drilled, type EventOf } from './model-drill.js';
import { Timeline } from './journal-clock.js';
import { REPORT_VERSION, type Report, type ReportStep } from './schema.js';

/** Outputs are summarized to one line each: a report is read, not replayed. */
const OUTPUT_CHARS = 160;

export function summarizeOutput(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.length > OUTPUT_CHARS ? `${text.slice(0, OUTPUT_CHARS - 1)}…` : text;
}

export function buildReport(journal: Journal): Report {
  const builder = new ReportBuilder(journal.header);
  for (const e of journal.events) builder.enter(e);
  return builder.build();
}

/**
 * The report of the journal at `path`, folded event by event as the file is read (scanJournal);
 * `check: false` for the journal of the run this process is finishing.
 */
export function reportOfJournal(path: string, options: { check?: boolean } = {}): Report {
  let builder: ReportBuilder | undefined;
  scanJournal(
    path,
    (header) => (builder = new ReportBuilder(header)),
    (e) => builder!.enter(e),
    options,
  );
  return builder!.build();
}

function emptyReport(header: JournalHeader): Report {
  return {
    reportVersion: REPORT_VERSION,
    run: {
      id: header.runId,
      createdAt: header.createdAt,
      status: 'incomplete',
      operator: header.operator,
      operators: [header.operator],
      ...(header.trigger && { startedBy: describeTrigger(header.trigger) }),
      resumes: 0,
    },
    runbook: header.runbook,
    environment: header.environment,
    inventory: header.inventory,
    inputs: header.inputs,
    rto: {},
    spanMs: 0,
    steps: [],
    budgetMisses: [],
    approvals: [],
    approvalWaitMs: 0,
    warnings: [],
  };
}

/** Folds the journal's events, in order, into the report. */
class ReportBuilder {
  private readonly report: Report;
  private readonly clock = new Timeline();
  private readonly steps = new Map<string, ReportStep>();
  private readonly backups = new BackupFigures();
  private readonly cloudEvents = new CloudEvents();
  private drill?: Drilled;

  constructor(header: JournalHeader) {
    this.report = emptyReport(header);
  }

  enter(e: RunEvent): void {
    const at = this.clock.enter(e);
    this.report.spanMs = Math.max(this.report.spanMs, at);
    switch (e.type) {
      case 'run-started':
      case 'run-resumed':
      case 'rto-exceeded':
      case 'rollback-started':
      case 'log':
      case 'run-finished':
        return this.runEvent(e, at);
      case 'step-started':
      case 'step-attempt-failed':
      case 'step-finished':
      case 'step-skipped':
      case 'budget-exceeded':
        return this.stepEvent(e, at);
      case 'approval-requested':
      case 'approval-granted':
      case 'approval-denied':
        return this.approvalEvent(e, at);
      case 'drill-started':
      case 'steady-state':
      case 'fault-injected':
      case 'fault-reverted':
      case 'probe-progress':
      case 'drill-finished':
        return this.drillEvent(e);
      case 'drill-triggered': // the timeline's marks carry the chain it names
      case 'child-started': // for resume to find orphans
      case 'run-stopped': // the run stays incomplete until resumed
        return;
      default:
        return unhandledEvent(e);
    }
  }

  build(): Report {
    const { report, steps } = this;
    // Approvals still open at the end waited until then.
    for (const a of report.approvals) if (a.outcome === 'pending') a.waitMs = report.spanMs - a.requestedAtMs;
    report.approvalWaitMs = report.approvals.reduce((sum, a) => sum + a.waitMs, 0);
    report.steps = [...steps.values()];
    // The miss is reported when the budget runs out; the report wants what the step took in the end.
    for (const miss of report.budgetMisses) {
      const took = steps.get(miss.stepId)?.durationMs;
      if (took !== undefined) miss.elapsedMs = took;
    }
    if (this.drill) report.drill = finishDrill(this.drill);
    const backupSection = this.backups.build(report.rto.objectiveMs);
    if (backupSection) report.backups = backupSection;
    const cloudEvents = this.cloudEvents.build();
    if (cloudEvents) report.cloudEvents = cloudEvents;
    return report;
  }

  private declare(summaries: StepSummary[]) {
    for (const s of summaries) {
      if (this.steps.has(s.id)) continue;
      this.steps.set(s.id, {
        id: s.id,
        kind: s.kind,
        ...(s.name !== undefined && { name: s.name }),
        phase: s.phase,
        status: 'not-run',
        waitMs: 0,
        ...(s.budgetMs !== undefined && { budgetMs: s.budgetMs }),
        overBudget: false,
        attempts: 0,
        attemptErrors: [],
        outputs: {},
      });
    }
  }

  private step(id: string, kind = '?', phase: ReportStep['phase'] = 'main') {
    if (!this.steps.has(id)) this.declare([{ id, kind, phase }]);
    return this.steps.get(id)!;
  }

  private runEvent(
    e: EventOf<'run-started' | 'run-resumed' | 'rto-exceeded' | 'rollback-started' | 'log' | 'run-finished'>,
    at: number,
  ) {
    const { report } = this;
    switch (e.type) {
      case 'run-started':
        if (e.rtoMs !== undefined) report.rto.objectiveMs = e.rtoMs;
        this.declare(e.steps);
        break;
      case 'run-resumed':
        report.run.resumes += 1;
        report.run.operators.push(e.operator);
        break;
      case 'rto-exceeded':
        report.rto.exceededAtMs ??= at;
        break;
      case 'rollback-started':
        report.rollback = { failedStep: e.failedStep, error: e.error, startAtMs: at };
        this.declare(e.steps);
        break;
      case 'log':
        if (e.level === 'warn') report.warnings.push(e.stepId ? `${e.stepId}: ${e.message}` : e.message);
        break;
      case 'run-finished':
        Object.assign(report.run, {
          status: e.status,
          finishedAt: e.ts,
          durationMs: e.durationMs,
          ...(e.failedStep !== undefined && { failedStep: e.failedStep }),
          ...(e.error !== undefined && { error: e.error }),
        });
        report.rto.actualMs = e.durationMs;
        if (e.rtoMs !== undefined) report.rto.objectiveMs = e.rtoMs;
        if (e.rtoMet !== undefined) report.rto.met = e.rtoMet;
        break;
      default:
        unhandledEvent(e);
    }
  }

  private stepEvent(
    e: EventOf<'step-started' | 'step-attempt-failed' | 'step-finished' | 'step-skipped' | 'budget-exceeded'>,
    at: number,
  ) {
    switch (e.type) {
      case 'step-started': {
        const s = this.step(e.stepId, e.kind, e.phase);
        Object.assign(s, { kind: e.kind, status: 'running', startAtMs: at });
        if (e.budgetMs !== undefined) s.budgetMs = e.budgetMs;
        this.backups.started(e.stepId, e.kind, e.input);
        this.cloudEvents.started(e.stepId, e.kind);
        break;
      }
      case 'step-attempt-failed':
        this.step(e.stepId).attemptErrors.push(`attempt ${e.attempt}: ${e.error}`);
        break;
      case 'step-finished':
        return this.stepFinished(e, at);
      case 'step-skipped': {
        const s = this.step(e.stepId, undefined, e.phase);
        s.status = 'skipped';
        s.skipReason = e.reason === 'when' ? `when: ${e.detail}` : (e.detail ?? e.reason);
        break;
      }
      case 'budget-exceeded': {
        // Reported once while the step runs; a resumed run may report the same step again.
        const miss = this.report.budgetMisses.find((m) => m.stepId === e.stepId);
        if (miss) miss.elapsedMs = e.elapsedMs;
        else
          this.report.budgetMisses.push({ stepId: e.stepId, budgetMs: e.budgetMs, elapsedMs: e.elapsedMs });
        this.step(e.stepId).overBudget = true;
        break;
      }
      default:
        unhandledEvent(e);
    }
  }

  private stepFinished(e: EventOf<'step-finished'>, at: number) {
    const s = this.step(e.stepId, undefined, e.phase);
    Object.assign(s, {
      status: e.status,
      durationMs: e.durationMs,
      waitMs: e.waitMs,
      attempts: e.attempts,
      outputs: Object.fromEntries(Object.entries(e.outputs).map(([k, v]) => [k, summarizeOutput(v)])),
      ...(e.error !== undefined && { error: e.error }),
      ...(e.continued && { continued: true }),
      ...(e.alreadyDone && { alreadyDone: true }),
    });
    // A step found done on resume never ran here: its start is its end.
    s.startAtMs ??= Math.max(0, at - e.durationMs);
    if (s.budgetMs !== undefined && e.durationMs > s.budgetMs) s.overBudget = true;
    this.backups.finished(s, e);
    this.cloudEvents.finished(e, this.report.run.createdAt);
  }

  private approvalEvent(
    e: EventOf<'approval-requested' | 'approval-granted' | 'approval-denied'>,
    at: number,
  ) {
    if (e.type === 'approval-requested') {
      this.report.approvals.push({
        stepId: e.stepId,
        message: e.message,
        requestedAtMs: at,
        outcome: 'pending',
        waitMs: 0,
      });
      return;
    }
    const pending = this.report.approvals.findLast((a) => a.stepId === e.stepId && a.outcome === 'pending');
    if (!pending) return;
    pending.outcome = e.type === 'approval-granted' ? 'granted' : 'denied';
    pending.by = e.by;
    pending.waitMs = e.waitMs;
  }

  private drillEvent(
    e: EventOf<
      | 'drill-started'
      | 'steady-state'
      | 'fault-injected'
      | 'fault-reverted'
      | 'probe-progress'
      | 'drill-finished'
    >,
  ) {
    if (e.type === 'drill-started') {
      this.drill = startedDrill(e);
      return;
    }
    const drill = this.drill;
    if (!drill) return;
    switch (e.type) {
      case 'steady-state':
        drill.steadyState = { healthy: e.healthy, problems: e.problems };
        break;
      case 'fault-injected':
        Object.assign(drill.fault, { atMs: this.clock.at(e.at), detail: e.detail });
        break;
      case 'fault-reverted':
        drill.fault.reverted = e.error === undefined;
        if (e.error !== undefined) drill.fault.revertError = e.error;
        break;
      case 'probe-progress':
        Object.assign(drill.probe, {
          writesSent: e.sent,
          writesAcked: e.acked,
          writesFailed: e.sent - e.acked,
        });
        break;
      case 'drill-finished':
        drill.finished = e;
        applyFigures(drill, e.figures, this.clock);
        break;
      default:
        unhandledEvent(e);
    }
  }
}
