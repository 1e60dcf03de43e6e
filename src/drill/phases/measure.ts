// Measure: the probe stops, the rows it wrote are read back and the timeline switch point looked
// up; the figures themselves are a pure function of that record (../measure.ts).
import { measureDrill, promotedNode, type Measurement } from '../measure.js';
import { PROBE_TABLE } from '../probe.js';
import type { Connect } from '../probe-route.js';
import { timelineSwitchPoint } from '../timeline-switch-point.js';
import type { DrillState } from './state.js';

export interface DrillMeasurement extends Measurement {
  /** False when the probe rows could not be read back: the RPO is unknown. */
  rowsRead: boolean;
}

export async function measure(s: DrillState): Promise<DrillMeasurement> {
  const { env } = s.loaded;
  const writes = await s.probe!.stop();
  const newPrimary = promotedNode(s.events);
  const presentSeqs = await readProbeSeqs(s.route.connect, s.runId).catch(() => undefined);
  const oldNode = env.postgres.nodes[env.primary]!;
  const timelineSwitchLsn =
    newPrimary && newPrimary !== env.primary
      ? await timelineSwitchPoint(env, newPrimary, s.w.secret).catch(() => undefined)
      : undefined;
  const measurement = measureDrill({
    runbook: s.runbook,
    events: s.events,
    writes,
    fault: s.fault.fault,
    faultAt: s.faultAt,
    clockOffset: s.clockOffset,
    presentSeqs,
    oldPrimary: `${oldNode.host}:${oldNode.port}`,
    timelineSwitchLsn,
    measure: s.loaded.drill.objectives.measure,
  });
  // The probe sees split-brain writes only through its route; a split-brain fault's own client of
  // the old primary counts the ones it made there.
  const { fault, ctx } = s.fault;
  measurement.figures.splitBrainWrites += fault?.splitBrainWrites?.(ctx) ?? 0;
  return { ...measurement, rowsRead: presentSeqs !== undefined };
}

async function readProbeSeqs(connect: Connect, runId: string): Promise<Set<number>> {
  const client = await connect(3000);
  try {
    const { rows } = await client.query<{ seq: number }>(`SELECT seq FROM ${PROBE_TABLE} WHERE run_id = $1`, [
      runId,
    ]);
    return new Set(rows.map((r) => r.seq));
  } finally {
    await client.end().catch(() => undefined);
  }
}
