// Approvals: pre-approved by flags (--yes, --approve STEP), else asked through a hook the command
// line provides (a TTY prompt). The engine never reads a terminal itself.
import type { ApprovalRequest } from '../actions/types.js';
import { StepFailure } from '../errors.js';
import type { RunEmitter } from './events.js';

export interface ApprovalAnswer {
  approved: boolean;
  /** Who answered (operator user@host, or the flag that pre-approved). */
  by: string;
}

/** Asks a person; must honour the signal (a step timeout or Ctrl-C ends the wait). */
export type AskApproval = (
  request: ApprovalRequest & { stepId: string },
  signal: AbortSignal,
) => Promise<ApprovalAnswer>;

export interface ApprovalPolicy {
  /** --yes: every approval step is pre-approved. */
  all?: boolean;
  /** --approve STEP (repeatable). */
  steps?: ReadonlySet<string>;
  /** Absent when there is no terminal to ask on. */
  ask?: AskApproval;
}

export async function requestApproval(
  policy: ApprovalPolicy,
  emitter: RunEmitter,
  stepId: string,
  request: ApprovalRequest,
  signal: AbortSignal,
): Promise<{ by: string; waitMs: number }> {
  emitter.emit({
    type: 'approval-requested',
    stepId,
    message: request.message,
    approvers: request.approvers,
  });
  const preApproved = policy.all ? '--yes' : policy.steps?.has(stepId) ? `--approve ${stepId}` : undefined;
  if (preApproved) {
    emitter.emit({ type: 'approval-granted', stepId, by: preApproved, waitMs: 0 });
    return { by: preApproved, waitMs: 0 };
  }
  if (!policy.ask) {
    throw new StepFailure(
      `needs an approval and there is no terminal to ask on: pass --approve ${stepId} (or --yes) to approve in advance`,
      { stepId },
    );
  }
  const start = performance.now();
  const answer = await policy.ask({ ...request, stepId }, signal);
  const waitMs = performance.now() - start;
  if (!answer.approved) {
    emitter.emit({ type: 'approval-denied', stepId, by: answer.by, waitMs });
    throw new StepFailure(`not approved by ${answer.by}`, { stepId });
  }
  emitter.emit({ type: 'approval-granted', stepId, by: answer.by, waitMs });
  return { by: answer.by, waitMs };
}
