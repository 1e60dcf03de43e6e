// Fault and recovery: the fault strikes, the runbook runs under it (stopped by a stop condition,
// maxDuration or the operator), the fault ends, and the probe watches a little longer.
import { setTimeout as sleep } from 'node:timers/promises';
import { parseDuration } from '../../duration.js';
import { errorMessage } from '../../errors.js';
import type { InputValues } from '../../runbook/inputs.js';
import { injectFault } from './fault.js';
import { clientsBack } from './probe.js';
import { runTriggered } from './trigger.js';
import type { DrillState } from './state.js';

/** Writes sent after the runbook finished, so the recovery is seen even when it came last. */
const TAIL_MS = 1000;

export async function strikeAndRecover(s: DrillState): Promise<void> {
  const timers: NodeJS.Timeout[] = [];
  s.faultAt = performance.now();
  try {
    const lateInputs = await injectFault(s, timers);
    const maxDuration = s.loaded.drill.stopConditions?.maxDuration;
    const maxMs = parseDuration(maxDuration ?? '');
    if (maxMs)
      timers.push(setTimeout(() => s.stop.abort(new Error(`maxDuration ${maxDuration} reached`)), maxMs));
    // Without a fault (a restore test) the disaster is the start of the runbook.
    if (!s.fault.fault) s.faultAt = performance.now();
    await recover(s, lateInputs);
  } catch (err) {
    s.aborted = `the fault could not be injected: ${errorMessage(err)}`;
  } finally {
    timers.forEach(clearTimeout);
    await s.fault.revert();
  }
}

async function recover(s: DrillState, lateInputs: InputValues | undefined): Promise<void> {
  const signal = AbortSignal.any([s.w.signal, s.stop.signal]);
  // The runbook starts as the drill's trigger says: at once, by an alert through serve, or by a person.
  s.run = await runTriggered(s, signal, lateInputs).catch((err: unknown) => {
    s.aborted = `the runbook did not run: ${errorMessage(err)}`;
    return undefined;
  });
  if (s.stop.signal.aborted) s.aborted = `stopped: ${errorMessage(s.stop.signal.reason)}`;
  else if (s.w.signal.aborted) s.aborted = 'interrupted by the operator';
  // A timed fault ends on its own schedule, with the probe still watching: a frozen or cut-off
  // primary that comes back after the failover must not take a single write.
  const { fault, ctx } = s.fault;
  const faultEnds = s.faultAt + (fault?.timed ? (ctx.durationMs ?? 0) : 0);
  if (!s.aborted && faultEnds > performance.now())
    await sleep(faultEnds - performance.now(), undefined, { signal }).catch(() => undefined);
  await s.fault.revert();
  const runbookEnd = performance.now();
  await sleep(TAIL_MS);
  // A patient client may still hang in its connect timeout: wait until every profile is back.
  await clientsBack(s, runbookEnd);
}
