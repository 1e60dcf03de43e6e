// Verdict: the figures judged against the objectives, and `drill-finished` with everything the
// reports need.
import type { DrillPhase } from '../../engine/events.js';
import { ExitCode } from '../../errors.js';
import type { DrillFigures, DrillVerdict } from '../../schema/drill-outcome.js';
import { drillPhases } from '../failover-phases.js';
import { noFigures } from '../measure.js';
import type { RestoreOutcome } from '../restore.js';
import { drillVerdict } from '../verdict.js';
import type { DrillMeasurement } from './measure.js';
import type { DrillOutcome, DrillState } from './state.js';

export function judge(s: DrillState, m: DrillMeasurement): { verdict: DrillVerdict; reasons: string[] } {
  const judged = drillVerdict({
    runSucceeded: s.run?.status === 'succeeded',
    runError: s.run?.error?.message,
    aborted: s.aborted,
    figures: m.figures,
    objectives: s.objectives,
  });
  if (!m.rowsRead) judged.reasons.push('could not read the probe rows back through the route: RPO unknown');
  return judged;
}

/** A drill refused before its probe started: no figures, nothing to restore. */
export const refuse = (s: DrillState, why: string): DrillOutcome =>
  finish(s, 'aborted', [why], { figures: noFigures(), phases: drillPhases(s.runbook, s.events) }, undefined);

export function finish(
  s: DrillState,
  verdict: DrillVerdict,
  reasons: string[],
  m: { figures: DrillFigures; phases: DrillPhase[] },
  restore: RestoreOutcome | undefined,
): DrillOutcome {
  s.w.emitter.emit({
    type: 'drill-finished',
    verdict,
    reasons,
    figures: m.figures,
    objectives: s.objectives,
    phases: m.phases,
    restore: restore
      ? { status: restore.status, runId: restore.runId, manualSteps: restore.manualSteps }
      : { status: 'skipped' },
  });
  return {
    runId: s.runId,
    verdict,
    exitCode: verdict === 'pass' ? ExitCode.ok : ExitCode.failed,
    reasons,
    objectives: s.objectives,
    figures: m.figures,
    restore,
  };
}
