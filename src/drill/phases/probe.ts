// Probe: writes through the clients' route start before the fault, and a stop condition over the
// probe's figures aborts the runbook.
import { setTimeout as sleep } from 'node:timers/promises';
import { evaluate, parseSite } from '../../runbook/expressions.js';
import { Probe } from '../probe.js';
import type { DrillState } from './state.js';

/** How often the probe's progress is reported (ms). */
const PROGRESS_MS = 1000;

export async function startProbe(s: DrillState): Promise<void> {
  const stopWhen = s.loaded.drill.stopConditions?.when;
  const stopAst = stopWhen ? parseSite({ source: stopWhen, start: -3, end: stopWhen.length }) : undefined;
  let lastProgress = 0;
  const probe: Probe = new Probe({
    connect: s.route.connect,
    runId: s.runId,
    intervalMs: s.intervalMs,
    writeTimeoutMs: Math.max(500, s.intervalMs * 10),
    onWrite: () => {
      const stats = probe.stats();
      if (stopAst && !s.stop.signal.aborted && evaluate(stopAst, { probe: stats })) {
        s.stop.abort(new Error(`stop condition "${stopWhen}" held`));
      }
      if (performance.now() - lastProgress >= PROGRESS_MS) {
        lastProgress = performance.now();
        s.w.emitter.emit({ type: 'probe-progress', ...stats });
      }
    },
  });
  s.probe = probe;
  await probe.start();
  // A steady stream of acknowledged writes before the fault, to measure against.
  await sleep(Math.max(300, s.intervalMs * 5));
}
