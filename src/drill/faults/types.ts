// A fault a drill injects: one file per kind, each with a revert that always runs.
import type { EnvContext } from '../../actions/types.js';

export interface FaultContext {
  env: EnvContext;
  /** The inventory node the fault hits (`primary` already resolved). */
  node: string;
  /** For faults that last: how long (freeze, partition, replica-lag). */
  durationMs?: number;
  signal?: AbortSignal;
  secret(ref: string): Promise<string>;
  log(message: string): void;
  /** The drill's options for this fault kind (delete-rows: table, where; aws: action, cluster, targetInstance). */
  options?: { table?: string; where?: string; action?: string; cluster?: string; targetInstance?: string };
}

export interface Injected {
  at: number;
  /** Values of the fault's declared `facts`. */
  facts?: Record<string, string | number>;
}

export interface Fault {
  kind: string;
  /** True when the fault is undone after its duration (the others are repaired by the restore runbook). */
  timed: boolean;
  /**
   * What a data fault harms: `availability` faults are measured by when clients write again;
   * `data` faults (rows deleted) leave clients writing and are measured by when the runbook has
   * recovered the data. Default `availability`.
   */
  harms?: 'availability' | 'data';
  /**
   * The harm starts after the fault strikes (the DCS lost: the leader demotes itself only after
   * retry_timeout), so the first write after the fault still lands: the RTO is then the longest
   * client outage after the fault (`rtoBasis: outage`), not the first acknowledged write.
   */
  delayedHarm?: boolean;
  /** Facts the fault records as it strikes, which the drill's inputs may use (`${{ fault.time }}`). */
  facts?: readonly string[];
  /**
   * Applies the fault and resolves with the instant the command that applied it returned, on the
   * monotonic clock (performance.now()) the probe also uses: by then the fault is certainly in
   * effect, so no write acknowledged before it took effect counts as recovery.
   */
  inject(ctx: FaultContext): Promise<Injected>;
  /** Undoes the fault; safe to call twice and after a failed inject. Resolves with what it did. */
  revert(ctx: FaultContext): Promise<string>;
  /**
   * For a fault that leaves the old primary writable on purpose (split-brain): the writes it
   * acknowledged after the promotion, counted by the fault's own client, once reverted.
   */
  splitBrainWrites?(ctx: FaultContext): number;
}
