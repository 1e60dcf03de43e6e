// Probe: every client profile starts writing through its route before the fault, and a stop
// condition over the judged profile's figures (checked on every write and every interval, so a
// hanging write counts) aborts the runbook.
import { setTimeout as sleep } from 'node:timers/promises';
import { evaluate, parseSite } from '../../runbook/expressions.js';
import { Probe } from '../probe.js';
import type { DrillState } from './state.js';

/** How often the probe's progress is reported (ms). */
const PROGRESS_MS = 1000;
/** How often `clientsBack` looks at the probes (ms). */
const POLL_MS = 50;

export async function startProbe(s: DrillState): Promise<void> {
  const stopWhen = s.loaded.drill.stopConditions?.when;
  const stopAst = stopWhen ? parseSite({ source: stopWhen, start: -3, end: stopWhen.length }) : undefined;
  let lastProgress = 0;
  for (const { profile, route } of s.clients) {
    const judged = profile.name === s.judged;
    const watch = () => {
      const stats = probe.stats();
      if (stopAst && !s.stop.signal.aborted && evaluate(stopAst, { probe: stats })) {
        s.stop.abort(new Error(`stop condition "${stopWhen}" held`));
      }
      if (performance.now() - lastProgress >= PROGRESS_MS) {
        lastProgress = performance.now();
        s.w.emitter.emit({ type: 'probe-progress', ...stats, profile: profile.name });
      }
    };
    // The stop condition and the progress follow the judged profile, on every write and while one hangs.
    const probe: Probe = new Probe({
      connect: route.connect,
      runId: s.runId,
      profile,
      intervalMs: s.intervalMs,
      ...(judged && { onWrite: watch, onTick: watch }),
    });
    s.probes.push(probe);
  }
  // One after the other: concurrent CREATE TABLE IF NOT EXISTS of the probe table collide.
  for (const probe of s.probes) await probe.start();
  // A steady stream of acknowledged writes before the fault, to measure against.
  await sleep(Math.max(300, s.intervalMs * 5));
}

/**
 * Waits until every profile's latest write was acknowledged after `since` (performance.now() ms),
 * or until the slowest profile could have gone through one more connect and write: a client that
 * hangs in its connect timeout is still seen coming back.
 */
export async function clientsBack(s: DrillState, since: number): Promise<void> {
  const patience = Math.max(...s.clients.map((c) => c.profile.connectTimeoutMs + c.profile.writeTimeoutMs));
  const until = performance.now() + patience;
  const back = () =>
    s.probes.every((p) => {
      const last = p.writes.at(-1);
      return last?.ackAt !== undefined && last.ackAt > since;
    });
  while (!back() && performance.now() < until) await sleep(POLL_MS);
}
