// Time for the scheduler, injectable so tests can walk through days of schedule in milliseconds.
import { setTimeout as delay } from 'node:timers/promises';

export interface Clock {
  now(): Date;
  /** Resolves after `ms`, or early (never rejecting) when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms, signal) => delay(ms, undefined, { signal }).catch(() => undefined),
};

/** The longest single sleep: a clock that jumps (suspend, NTP) is noticed within this. */
const MAX_SLEEP_MS = 60_000;

/** Sleeps until `until` by the clock; false when `signal` aborted first. */
export async function sleepUntil(clock: Clock, until: Date, signal: AbortSignal): Promise<boolean> {
  for (;;) {
    if (signal.aborted) return false;
    const left = until.getTime() - clock.now().getTime();
    if (left <= 0) return true;
    await clock.sleep(Math.min(left, MAX_SLEEP_MS), signal);
  }
}
