// What clients saw during a drill, from the probe's writes: RTO, RPO, split brain.
import { lsnDistance } from '../actions/lsn.js';
import type { DrillFigures } from '../schema/drill-outcome.js';
import type { ProbeWrite } from './probe.js';

/** The figures as the probe alone gives them; the drill adds the times on the run's clock. */
export type ProbeFigures = Omit<DrillFigures, 'faultAt' | 'outage' | 'promotedAt'>;

export interface FigureInputs {
  writes: readonly ProbeWrite[];
  faultAt: number;
  /** Sequence numbers the new primary has (its rows of this drill). */
  presentSeqs: ReadonlySet<number>;
  /** address:port of the primary before the fault. */
  oldPrimary: string;
  /** When the promotion finished (monotonic ms), and where the new timeline branched off. */
  promotedAt?: number;
  timelineSwitchLsn?: string;
}

export function drillFigures(i: FigureInputs): ProbeFigures {
  const acked = i.writes.filter((w) => w.ackAt !== undefined);
  const firstAfter = acked.find((w) => w.sentAt >= i.faultAt);
  const lost = acked.filter((w) => !i.presentSeqs.has(w.seq)).map((w) => w.seq);
  const fromOld = acked.filter((w) => w.server === i.oldPrimary);
  const lastOldLsn = fromOld
    .map((w) => w.lsn)
    .filter((l): l is string => !!l)
    .at(-1);
  let longestGapMs = 0;
  for (let k = 1; k < acked.length; k++) {
    const prev = acked[k - 1]!;
    const cur = acked[k]!;
    if (cur.ackAt! >= i.faultAt) longestGapMs = Math.max(longestGapMs, cur.ackAt! - prev.ackAt!);
  }
  return {
    rtoMs: firstAfter ? firstAfter.ackAt! - i.faultAt : undefined,
    longestGapMs,
    writesSent: i.writes.length,
    writesAcked: acked.length,
    writesFailed: i.writes.length - acked.length,
    rpoRows: lost.length,
    lostSeqs: lost,
    rpoBytes:
      lastOldLsn && i.timelineSwitchLsn
        ? Math.max(0, lsnDistance(lastOldLsn, i.timelineSwitchLsn))
        : undefined,
    splitBrainWrites: i.promotedAt === undefined ? 0 : fromOld.filter((w) => w.ackAt! > i.promotedAt!).length,
  };
}
