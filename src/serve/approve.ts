// `drillbook approve RUN_ID STEP [--reject] [--reason TEXT]`: answers a pending approval of a run
// `drillbook serve` started (it waits on the approval files of the state directory).
import { answerApproval } from '../engine/approval-box.js';
import { operatorName } from '../engine/new-run.js';
import { ExitCode, UserError } from '../errors.js';
import type { Output } from '../system/output.js';
import { stateDirOf } from '../system/run-paths.js';

export interface ApproveOptions {
  runId: string;
  stepId: string;
  reject?: boolean;
  reason?: string;
  stateDir?: string;
}

export function approveCommand(o: ApproveOptions, io: Output): number {
  const by = operatorName();
  const answer = answerApproval(stateDirOf(o.stateDir), o.runId, o.stepId, {
    approved: !o.reject,
    by,
    via: 'drillbook approve',
    reason: o.reason,
  });
  switch (answer.outcome) {
    case 'recorded':
      io.out(`${o.stepId} of run ${o.runId}: ${o.reject ? 'rejected' : 'approved'} by ${by}`);
      return ExitCode.ok;
    case 'already-answered':
      io.err(
        `${o.stepId} of run ${o.runId} was already answered${answer.decision ? ` (${answer.decision.approved ? 'approved' : 'rejected'} by ${answer.decision.by} via ${answer.decision.via})` : ''}; nothing changed`,
      );
      return ExitCode.failed;
    case 'refused':
      throw new UserError(`refused: ${answer.why}`);
    case 'no-such-approval':
      throw new UserError(`run ${o.runId} has no approval waiting at step "${o.stepId}"`);
  }
}
