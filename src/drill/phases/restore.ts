// Restore: the restore runbook (failback) runs when the environment is not back in its steady state;
// an environment that stays unhealthy is marked degraded, with what to do by hand.
import { loadDocument } from '../../runbook/load.js';
import type { Runbook } from '../../runbook/schema.js';
import { behindRoute, currentPrimary } from '../current-primary.js';
import { markDegraded } from '../degraded.js';
import { repairPatroniMembers } from '../patroni-restore.js';
import { runRestore, type RestoreOutcome } from '../restore.js';
import { settledSteadyState, steadyStateEvent } from '../steady-state.js';
import type { DrillState } from './state.js';

export interface RestoreRun {
  outcome?: RestoreOutcome;
  /** When the restore runbook ran (performance.now()), if it did: the clients' second outage. */
  window?: { from: number; to: number };
}

/** Restores the environment when needed; what went wrong is added to `reasons`. */
export async function restoreEnvironment(s: DrillState, reasons: string[]): Promise<RestoreRun> {
  const { env, restoreFile } = s.loaded;
  const unrepaired = await repairPatroniMembers(s);
  if (unrepaired) reasons.push(`restore: ${unrepaired}`);
  // A drill stopped before its failover leaves nothing to restore: the restore runs only when needed.
  const needsRestore =
    restoreFile !== undefined &&
    (!(await settledSteadyState(env, s.w.secret)).healthy ||
      (await behindRoute(env, s.route.connect).catch(() => undefined)) !== env.primary);
  if (restoreFile && !needsRestore) {
    s.w.emitter.emit({
      type: 'log',
      level: 'info',
      message: `${env.name} is already in its steady state: no restore needed`,
    });
  }
  const from = performance.now();
  const restore = needsRestore ? await restoreAfter(s) : undefined;
  const window = restore && { from, to: performance.now() };
  const after = await settledSteadyState(env, s.w.secret);
  s.w.emitter.emit(steadyStateEvent(after));
  if (restore?.status === 'failed' || !after.healthy) {
    const what = restoreFile ? 'restore failed' : 'not restored (the drill names no restore runbook)';
    const why = restore?.error ?? after.problems.join('; ');
    const manualSteps = restore?.manualSteps.length
      ? restore.manualSteps
      : after.problems.map((p) => `fix: ${p}`);
    markAndTell(s, what, why, manualSteps);
    reasons.push(`${what}: ${why}`);
  }
  return { outcome: restore, window };
}

/** Marks the environment degraded and tells the operator, loudly, what to do by hand. */
function markAndTell(s: DrillState, what: string, reason: string, manualSteps: string[]): void {
  const { env } = s.loaded;
  const mark = markDegraded(s.stateDir, {
    environment: env.name,
    since: new Date().toISOString(),
    runId: s.runId,
    reason,
    manualSteps,
  });
  s.io.err(
    `\n!!! ${what.toUpperCase()}: environment ${env.name} is DEGRADED (${mark}); the next drill refuses it until it is healthy.\n!!! Do this by hand:\n${manualSteps.map((step, i) => `!!!   ${i + 1}. ${step}`).join('\n')}\n`,
  );
}

/**
 * The restore runbook learns the current primary through its `current` input, when it has one,
 * and the drill's `restoreInputs`.
 */
async function restoreAfter(s: DrillState): Promise<RestoreOutcome> {
  const { loaded } = s;
  const restoreFile = loaded.restoreFile!;
  const declared = loadDocument(restoreFile, 'Runbook').data as Runbook;
  const inputs: Record<string, string> = Object.fromEntries(
    Object.entries(loaded.drill.restoreInputs ?? {}).map(([k, v]) => [k, String(v)]),
  );
  if (declared.inputs?.current) {
    const current = await currentPrimary(loaded.env, s.route.connect, s.w.secret);
    if (!current.node) {
      return {
        status: 'failed',
        error: `cannot restore: ${current.why}`,
        manualSteps: [`make exactly one node primary and route clients to it, then run ${restoreFile}`],
      };
    }
    inputs.current = current.node;
  }
  return runRestore({
    restoreFile,
    inputs,
    inventoryFile: loaded.inventoryFile,
    envName: loaded.env.name,
    stateDir: s.stateDir,
    json: s.options.json,
    io: s.io,
  });
}
