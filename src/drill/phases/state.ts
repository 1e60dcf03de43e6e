// What a drill carries from phase to phase (prepare → steady state → probe → fault → recovery →
// measure → restore → verdict): what was set up once, and what each phase recorded.
import type { Output } from '../../system/output.js';
import type { RunEvent } from '../../engine/events.js';
import type { HeldLock } from '../../engine/lock.js';
import type { WrapContext } from '../../engine/session.js';
import type { DrillFigures, DrillVerdict, Objectives } from '../../schema/drill-outcome.js';
import type { Runbook } from '../../runbook/schema.js';
import type { Fault, FaultContext } from '../faults/types.js';
import type { LoadedDrill } from '../load-drill.js';
import type { ClientProfile } from '../client-profiles.js';
import type { Probe } from '../probe.js';
import type { ProbeRoute } from '../probe-route.js';
import type { RestoreOutcome } from '../restore.js';

export interface DrillOptions {
  drillFile: string;
  inventoryFile?: string;
  stateDir?: string;
  json?: boolean;
  /** Overrides of the drill's runbook inputs (`--set`). */
  inputs?: Record<string, string>;
  /** Aborts the drill (fault reverted, restore run) and leaves process signals to the caller. */
  signal?: AbortSignal;
  /**
   * Brings back what the fault left dead (a crashed Patroni node, killed DCS members) before the
   * restore; resolves with what it did, or undefined when it cannot repair that inventory.
   */
  repair?(inventoryFile: string): Promise<string[] | undefined>;
}

export interface DrillOutcome {
  runId: string;
  verdict: DrillVerdict;
  exitCode: number;
  reasons?: string[];
  objectives?: Objectives;
  figures?: DrillFigures;
  restore?: RestoreOutcome;
  /** Where the reports of the drill were written. */
  reportDir?: string;
}

/** The drill's fault (none for a restore test or a switchover) and its once-only revert. */
export interface DrillFault {
  fault?: Fault;
  ctx: FaultContext;
  /** Reverts the fault once, however often it is called (timer, end of run, abort). */
  revert(): Promise<void>;
}

export type RunResult = Awaited<ReturnType<WrapContext['execute']>>;

export interface DrillState {
  readonly loaded: LoadedDrill;
  readonly runbook: Runbook;
  readonly runId: string;
  readonly stateDir: string;
  readonly options: DrillOptions;
  readonly io: Output;
  readonly w: WrapContext;
  /** Every event of the run so far, for the measurement. */
  readonly events: RunEvent[];
  /** performance.now() minus the run's clock: probe and fault times are on the former. */
  readonly clockOffset: number;
  readonly objectives: Objectives;
  readonly intervalMs: number;
  /** The default route (the probe's `via`): steady-state checks and reading rows back use it. */
  readonly route: ProbeRoute;
  /** Every client profile with its own route, in drill order. */
  readonly clients: readonly { profile: ClientProfile; route: ProbeRoute }[];
  /** The profile the objectives judge. */
  readonly judged: string;
  /** The node the fault hits (the primary when the drill has no fault). */
  readonly node: string;
  readonly fault: DrillFault;
  /** Stops the runbook early: a stop condition held or maxDuration was reached. */
  readonly stop: AbortController;
  /** One probe per client profile, in drill order, once they started. */
  probes: Probe[];
  /** When the disaster struck (performance.now()): the fault's injection, else the runbook's start. */
  faultAt: number;
  /** Why the drill stopped before its end, when it did. */
  aborted?: string;
  run?: RunResult;
  /** trigger: alert: the environment's lock in serve's state directory, held until the drill ends. */
  serveLock?: HeldLock;
}
