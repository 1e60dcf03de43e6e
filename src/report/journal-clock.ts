// The report's one clock over a journal that may span several processes (a run and its resumes).
import type { RunEvent } from '../engine/events.js';

/**
 * Maps each event's monotonic `t` onto one timeline from the run's first event. A resumed run is a
 * new process whose clock starts again at 0: a segment begins at `run-resumed` (or wherever `t`
 * goes back), and is placed by its wall-clock time.
 */
export class Timeline {
  private origin?: number;
  private base = 0;
  private lastT = -Infinity;

  /** Enters an event; returns its offset (ms) from the run's first event. */
  enter(e: RunEvent): number {
    const processStart = Date.parse(e.ts) - e.t;
    if (this.origin === undefined) this.origin = processStart;
    else if (e.type === 'run-resumed' || e.t < this.lastT)
      this.base = Math.max(0, processStart - this.origin);
    this.lastT = e.t;
    return this.at(e.t);
  }

  /** A monotonic time of the current process (fault time, outage, promotion) as an offset. */
  at(t: number): number {
    return Math.max(0, this.base + t);
  }
}
