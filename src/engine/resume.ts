// Resume decisions from a journal: which steps finished (not run again, outputs restored), whether
// the main phase had failed (rollback remains), and what to do with the step that was in flight.
import type { ActionDefinition } from '../actions/types.js';
import { UserError } from '../errors.js';
import type { Runbook } from '../runbook/schema.js';
import type { StepResult } from './context.js';
import type { InterruptedDecision } from './events.js';
import type { ChildRecord } from './children.js';
import type { Journal } from './journal.js';
import type { ResumeState } from './run-spec.js';

export interface ResumeFlags {
  retryInterrupted?: boolean;
  skipInterrupted?: boolean;
}

export function resumeState(
  journal: Journal,
  runbook: Runbook,
  actions: ReadonlyMap<string, ActionDefinition>,
  flags: ResumeFlags = {},
): ResumeState {
  const runId = journal.header.runId;
  if (flags.retryInterrupted && flags.skipInterrupted)
    throw new UserError('--retry-interrupted and --skip-interrupted exclude each other');
  const results: Record<string, StepResult> = {};
  const inFlight = new Set<string>();
  let failed: ResumeState['failed'];
  let rollbackStarted = false;
  const children: ChildRecord[] = [];
  for (const e of journal.events) {
    switch (e.type) {
      case 'run-finished':
        throw new UserError(`run ${runId} already finished (${e.status}); start a new run instead`);
      case 'step-started':
        inFlight.add(e.stepId);
        break;
      case 'step-finished':
        inFlight.delete(e.stepId);
        results[e.stepId] = { status: e.status, outputs: e.outputs, durationMs: e.durationMs };
        if (e.status === 'failed' && e.phase === 'main' && !e.continued)
          failed = { stepId: e.stepId, error: e.error ?? 'failed' };
        break;
      case 'step-skipped':
        inFlight.delete(e.stepId);
        results[e.stepId] = { status: 'skipped', outputs: {} };
        break;
      case 'rollback-started':
        rollbackStarted = true;
        break;
      case 'child-started':
        children.push({ stepId: e.stepId, pid: e.pid, startTime: e.startTime });
        break;
    }
  }
  const startedAt = journal.events.find((e) => e.type === 'run-started')?.ts ?? journal.header.createdAt;
  const [stepId] = inFlight; // steps run one at a time: at most one was in flight
  if (stepId === undefined) return { startedAt, results, failed, rollbackStarted, children: [] };
  const decision = interruptedDecision(runId, stepId, runbook, actions, flags);
  return {
    startedAt,
    results,
    failed,
    rollbackStarted,
    interrupted: { stepId, decision },
    // A finished step's leftovers (a server it started) are its purpose, not an orphan.
    children: children.filter((c) => c.stepId === stepId),
  };
}

/**
 * A step in flight may have had its effect. It runs again only when that is safe (idempotent), or
 * after its "done already?" check; otherwise the operator decides.
 */
function interruptedDecision(
  runId: string,
  stepId: string,
  runbook: Runbook,
  actions: ReadonlyMap<string, ActionDefinition>,
  flags: ResumeFlags,
): InterruptedDecision {
  if (flags.retryInterrupted) return 'retry';
  if (flags.skipInterrupted) return 'skip';
  const step = [...runbook.steps, ...(runbook.rollback ?? [])].find((s) => s.id === stepId);
  if (!step) throw new UserError(`run ${runId}: step ${stepId} is no longer in the runbook`);
  const action = actions.get(step.kind);
  if (action?.idempotent || (step.with as { idempotent?: unknown }).idempotent === true) return 'retry';
  if (action?.alreadyDone) return 'check';
  throw new UserError(
    `step ${stepId} (${step.kind}) was in flight when run ${runId} was interrupted and may already have had its effect; ` +
      `it is not idempotent, so resume will not repeat it on its own. Check what it did, then resume with ` +
      `--retry-interrupted to run it again or --skip-interrupted to continue after it`,
  );
}
