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
}

export interface Fault {
  kind: string;
  /** True when the fault is undone after its duration (the others are repaired by the restore runbook). */
  timed: boolean;
  /**
   * Applies the fault and resolves with the instant the command that applied it returned, on the
   * monotonic clock (performance.now()) the probe also uses: by then the fault is certainly in
   * effect, so no write acknowledged before it took effect counts as recovery.
   */
  inject(ctx: FaultContext): Promise<number>;
  /** Undoes the fault; safe to call twice and after a failed inject. Resolves with what it did. */
  revert(ctx: FaultContext): Promise<string>;
}
