// The words of a drill's outcome, defined once: the drill computes them, the engine's events carry
// them, the scheduler records them and every report renders them.

/** A finished drill's verdict (a report adds `incomplete` for a journal that ends before one). */
export const DRILL_VERDICTS = ['pass', 'fail', 'aborted'] as const;
export type DrillVerdict = (typeof DRILL_VERDICTS)[number];

/** A drill's objectives: recovery time (ms) and acknowledged rows that may be lost. */
export interface Objectives {
  rtoMs: number;
  rpoRows: number;
}

/** What the RTO measured: clients writing again, or the data back in a verified copy. */
export const RTO_BASES = ['clients', 'recovery'] as const;
export type RtoBasis = (typeof RTO_BASES)[number];

/** The name of the RTO figure wherever it is shown. */
export const rtoLabelOf = (basis: RtoBasis | undefined) =>
  basis === 'recovery' ? 'RTO (data recovered and verified)' : 'RTO (client-observed)';

/** The figures of a drill (times on the run's monotonic clock, like an event's `t`). */
export interface DrillFigures {
  /**
   * `clients` (default): the first acknowledged write sent at or after the fault, minus the fault
   * time. `recovery` (a data fault, or a restore test without one): from the fault (or the start of
   * the runbook) to the end of its last pitr / restore-test step. Undefined when neither happened.
   */
  rtoMs?: number;
  rtoBasis?: RtoBasis;
  /** The longest time between two consecutive acknowledgements around the fault (ms). */
  longestGapMs: number;
  writesSent: number;
  writesAcked: number;
  writesFailed: number;
  /** Acknowledged probe rows the new primary does not have. */
  rpoRows: number;
  lostSeqs: number[];
  /** WAL between the old primary's last acknowledged position and the timeline switch point (bytes). */
  rpoBytes?: number;
  /** Writes the old primary acknowledged after the promotion: split brain, must be 0. */
  splitBrainWrites: number;
  faultAt: number;
  /** From the first failed write after the fault to the first acknowledged one after it. */
  outage?: { from: number; to: number };
  promotedAt?: number;
}
