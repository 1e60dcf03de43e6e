// A virtual clock for the daemon: sleepers wake in time order, each as soon as the event loop is
// idle, so days of schedule pass in milliseconds. Past `until`, nothing wakes: `onUntil` is called
// (the test stops the daemon there), aborted sleepers return and the others wake in turn.
import type { Clock } from '../../src/schedule/clock.js';

export function fakeClock(start: string, until: string, onUntil: () => void): Clock {
  let now = Date.parse(start);
  const end = Date.parse(until);
  const sleepers: { wake: number; resolve: () => void }[] = [];
  let scheduled = false;
  let ended = false;

  const fire = () => {
    scheduled = false;
    sleepers.sort((a, b) => a.wake - b.wake);
    const first = sleepers[0];
    if (!first) return;
    if (first.wake > end && !ended) {
      // The daemon stops here; what still sleeps after that (a drill finishing) wakes in turn.
      ended = true;
      onUntil();
      schedule();
      return;
    }
    sleepers.shift();
    now = Math.max(now, first.wake);
    first.resolve();
    schedule();
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(fire);
  };

  return {
    now: () => new Date(now),
    sleep(ms, signal) {
      return new Promise((resolve) => {
        if (signal.aborted) return resolve();
        const onAbort = () => {
          const i = sleepers.indexOf(sleeper);
          if (i >= 0) sleepers.splice(i, 1);
          resolve();
        };
        const sleeper = {
          wake: now + ms,
          resolve: () => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        sleepers.push(sleeper);
        signal.addEventListener('abort', onAbort, { once: true });
        schedule();
      });
    },
  };
}
