// Steady state first: faults left by a dead drill are reverted, and an unhealthy (or degraded)
// environment is refused, not drilled.
import type { EnvContext } from '../../actions/types.js';
import type { WrapContext } from '../../engine/session.js';
import { clearDegraded, readDegraded } from '../degraded.js';
import { faults } from '../faults/index.js';
import type { FaultContext } from '../faults/types.js';
import { forgetFault, pendingFaults } from '../pending-faults.js';
import { settledSteadyState, steadyStateEvent } from '../steady-state.js';
import type { DrillState } from './state.js';

/** Why the environment is refused, or undefined when it may be drilled. */
export async function checkSteadyState(s: DrillState): Promise<string | undefined> {
  const { env } = s.loaded;
  await revertLeftovers(s.stateDir, env, s.w);
  const steady = await settledSteadyState(env, s.w.secret);
  s.w.emitter.emit(steadyStateEvent(steady));
  const degraded = readDegraded(s.stateDir, env.name);
  if (!steady.healthy) {
    const why = degraded
      ? `environment ${env.name} is marked degraded since ${degraded.since} (run ${degraded.runId}) and still unhealthy`
      : `environment ${env.name} is not in its steady state`;
    return `${why}: ${steady.problems.join('; ')}`;
  }
  if (degraded) clearDegraded(s.stateDir, env.name);
  return undefined;
}

/** Faults left behind by a drill that died before reverting them are reverted first. */
async function revertLeftovers(
  stateDir: string,
  env: EnvContext,
  w: Pick<WrapContext, 'emitter' | 'secret'>,
) {
  for (const left of pendingFaults(stateDir, env.name)) {
    const fault = faults.get(left.kind);
    if (!fault) continue;
    const ctx: FaultContext = {
      env,
      node: left.node,
      durationMs: left.durationMs,
      secret: w.secret,
      log: () => undefined,
    };
    const detail = await fault.revert(ctx);
    forgetFault(stateDir, left.runId);
    w.emitter.emit({
      type: 'fault-reverted',
      kind: left.kind,
      node: left.node,
      detail: `${detail} (left by run ${left.runId})`,
    });
  }
}
