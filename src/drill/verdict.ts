// Pass or fail against the objectives; every reason in one line.
import { formatDuration } from '../duration.js';
import type { DrillFigures, DrillVerdict, Objectives } from '../schema/drill-outcome.js';

export interface VerdictInputs {
  runSucceeded: boolean;
  runError?: string;
  aborted?: string;
  figures: DrillFigures;
  objectives: Objectives;
}

export function drillVerdict(i: VerdictInputs): { verdict: DrillVerdict; reasons: string[] } {
  if (i.aborted) return { verdict: 'aborted', reasons: [i.aborted] };
  const reasons: string[] = [];
  const f = i.figures;
  if (!i.runSucceeded) reasons.push(`the runbook failed: ${i.runError ?? 'unknown error'}`);
  if (f.rtoMs === undefined)
    reasons.push(
      f.rtoBasis === 'recovery'
        ? 'the data was never recovered (no pitr or restore-test step succeeded): no RTO'
        : f.rtoBasis === 'replication'
          ? 'the orphaned replicas were never re-pointed (no repoint step succeeded): no RTO'
          : 'clients never wrote again after the fault: no RTO',
    );
  else if (f.rtoMs > i.objectives.rtoMs) {
    reasons.push(`RTO ${formatDuration(f.rtoMs)} missed the objective ${formatDuration(i.objectives.rtoMs)}`);
  }
  if (f.rtoBasis === 'replication' && f.writesFailed > 0)
    reasons.push(
      `clients saw an outage (${f.writesFailed} failed write(s)): losing a replica must not reach them`,
    );
  if (f.rpoRows > i.objectives.rpoRows) {
    reasons.push(`RPO ${f.rpoRows} acknowledged row(s) lost, objective ${i.objectives.rpoRows}`);
  }
  const restoreOutageMs = f.clients?.find((c) => c.name === f.profile)?.restoreOutageMs;
  if (
    i.objectives.restoreOutageMs !== undefined &&
    restoreOutageMs !== undefined &&
    restoreOutageMs > i.objectives.restoreOutageMs
  ) {
    reasons.push(
      `restore outage ${formatDuration(restoreOutageMs)} (${f.profile}) missed the objective ${formatDuration(i.objectives.restoreOutageMs)}`,
    );
  }
  if (i.objectives.splitBrainExpected) {
    if (f.splitBrainWrites === 0)
      reasons.push(
        'no split brain: the drill causes one on purpose, but the old primary acknowledged no write after the promotion',
      );
  } else if (f.splitBrainWrites > 0)
    reasons.push(
      `split brain: the old primary acknowledged ${f.splitBrainWrites} write(s) after the promotion`,
    );
  return { verdict: reasons.length ? 'fail' : 'pass', reasons };
}
