// Measure: the rows each profile wrote are read back (the probes keep writing through the restore)
// and the timeline switch point looked up; once the restore is over the probes stop, and the
// figures are a pure function of that record (../measure.ts).
import { measureDrill, promotedNode, type Measurement } from '../measure.js';
import { PROBE_TABLE, probeRowKey } from '../probe.js';
import type { Connect } from '../probe-route.js';
import { timelineSwitchPoint } from '../timeline-switch-point.js';
import type { DrillState } from './state.js';

export interface DrillMeasurement extends Measurement {
  /** False when the probe rows could not be read back: the RPO is unknown. */
  rowsRead: boolean;
}

/** What the failover left, read before the restore changes it. */
export interface FailoverRecord {
  /** Per profile (drill order), the sequence numbers the new primary has; undefined: unreadable. */
  presentSeqs?: Map<string, Set<number>>;
  /** When the rows were read (performance.now()). */
  readAt: number;
  timelineSwitchLsn?: string;
}

export async function readFailover(s: DrillState): Promise<FailoverRecord> {
  const { env } = s.loaded;
  const newPrimary = promotedNode(s.events);
  const readAt = performance.now();
  const presentSeqs = await readProbeSeqs(
    s.route.connect,
    s.runId,
    s.clients.map((c) => c.profile.name),
  ).catch(() => undefined);
  const timelineSwitchLsn =
    newPrimary && newPrimary !== env.primary
      ? await timelineSwitchPoint(env, newPrimary, s.w.secret).catch(() => undefined)
      : undefined;
  return { presentSeqs, readAt, timelineSwitchLsn };
}

/** Stops the probes and measures the failover and, when it ran, the restore. */
export async function measure(
  s: DrillState,
  failover: FailoverRecord,
  restore?: { from: number; to: number },
): Promise<DrillMeasurement> {
  const writes = await Promise.all(s.probes.map((p) => p.stop()));
  const oldNode = s.loaded.env.postgres.nodes[s.loaded.env.primary]!;
  const measurement = measureDrill({
    runbook: s.runbook,
    events: s.events,
    clients: s.clients.map((c, i) => ({
      profile: c.profile,
      route: c.route.description,
      writes: writes[i] ?? [],
      presentSeqs: failover.presentSeqs?.get(c.profile.name),
    })),
    judged: s.judged,
    fault: s.fault.fault,
    faultAt: s.faultAt,
    clockOffset: s.clockOffset,
    readAt: failover.readAt,
    restore,
    oldPrimary: `${oldNode.host}:${oldNode.port}`,
    timelineSwitchLsn: failover.timelineSwitchLsn,
    measure: s.loaded.drill.objectives.measure,
  });
  // The probes see split-brain writes only through their routes; a split-brain fault's own client
  // of the old primary counts the ones it made there.
  const { fault, ctx } = s.fault;
  measurement.figures.splitBrainWrites += fault?.splitBrainWrites?.(ctx) ?? 0;
  return { ...measurement, rowsRead: failover.presentSeqs !== undefined };
}

async function readProbeSeqs(connect: Connect, runId: string, profiles: string[]) {
  const client = await connect(3000);
  try {
    const keys = profiles.map((p) => probeRowKey(runId, p));
    const { rows } = await client.query<{ run_id: string; seq: number }>(
      `SELECT run_id, seq FROM ${PROBE_TABLE} WHERE run_id = ANY($1)`,
      [keys],
    );
    return new Map(
      profiles.map((p, i) => [p, new Set(rows.filter((r) => r.run_id === keys[i]).map((r) => r.seq))]),
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}
