// Fault: recorded before it strikes (so a dead drill's fault is reverted by the next one), injected,
// its facts turned into the runbook's late inputs, and reverted exactly once.
import type { WrapContext } from '../../engine/session.js';
import { parseDuration } from '../../duration.js';
import { errorMessage } from '../../errors.js';
import type { InputValues } from '../../runbook/inputs.js';
import { inputsAfterFault } from '../fault-inputs.js';
import { faults } from '../faults/index.js';
import type { FaultContext } from '../faults/types.js';
import type { LoadedDrill } from '../load-drill.js';
import { forgetFault, recordFault } from '../pending-faults.js';
import type { DrillFault, DrillState } from './state.js';

export function drillFault(
  loaded: LoadedDrill,
  node: string,
  runId: string,
  stateDir: string,
  w: WrapContext,
): DrillFault {
  const spec = loaded.drill.fault;
  const fault = spec ? faults.get(spec.kind)! : undefined;
  const ctx: FaultContext = {
    env: loaded.env,
    node,
    options: {
      table: spec?.table,
      where: spec?.where,
      action: spec?.action,
      cluster: spec?.cluster,
      targetInstance: spec?.targetInstance,
    },
    durationMs: parseDuration(spec?.duration ?? ''),
    secret: w.secret,
    log: (message) => w.emitter.emit({ type: 'log', level: 'info', message }),
  };
  let reverted: Promise<void> | undefined;
  const revert = () =>
    (reverted ??= (async () => {
      if (!fault) return;
      try {
        const detail = await fault.revert(ctx);
        forgetFault(stateDir, runId);
        w.emitter.emit({ type: 'fault-reverted', kind: fault.kind, node, detail });
      } catch (err) {
        w.emitter.emit({
          type: 'fault-reverted',
          kind: fault.kind,
          node,
          detail: 'revert failed',
          error: errorMessage(err),
        });
      }
    })());
  return { fault, ctx, revert };
}

/**
 * Injects the drill's fault (nothing without one) and sets when it struck; a timed fault's revert
 * is scheduled on `timers`. Resolves with the runbook inputs the fault's facts give, if any.
 */
export async function injectFault(s: DrillState, timers: NodeJS.Timeout[]): Promise<InputValues | undefined> {
  const { fault, ctx } = s.fault;
  if (!fault) return undefined;
  const { drill, env } = s.loaded;
  recordFault(s.stateDir, {
    runId: s.runId,
    environment: env.name,
    inventoryFile: s.loaded.inventoryFile,
    kind: fault.kind,
    node: s.node,
    durationMs: ctx.durationMs,
    since: new Date().toISOString(),
  });
  const injected = await fault.inject(ctx);
  s.faultAt = injected.at;
  const facts = injected.facts ?? {};
  s.w.emitter.emit({
    type: 'fault-injected',
    kind: fault.kind,
    node: s.node,
    at: s.faultAt - s.clockOffset,
    detail: [`${fault.kind} on ${s.node}`, ...Object.entries(facts).map(([k, v]) => `${k} ${v}`)].join(', '),
  });
  const lateInputs = inputsAfterFault(s.runbook, { ...drill.inputs, ...s.options.inputs }, env, facts);
  if (lateInputs) {
    s.w.emitter.emit({
      type: 'log',
      level: 'info',
      message: `inputs from the fault: ${Object.entries(lateInputs)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}`,
    });
  }
  if (fault.timed && ctx.durationMs) timers.push(setTimeout(() => void s.fault.revert(), ctx.durationMs));
  return lateInputs;
}
