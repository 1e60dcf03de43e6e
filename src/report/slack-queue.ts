// Slack calls of one run, one at a time and in order. Slack is never on the critical path: a
// failure is a warning, and after a few in a row the run stops trying.
import { errorMessage } from '../errors.js';

/** Consecutive failed calls after which the thread stops trying for this run. */
const GIVE_UP_AFTER = 3;

export function slackQueue(warn: (message: string) => void) {
  let failures = 0;
  let gaveUp = false;
  let queue: Promise<void> = Promise.resolve();
  return {
    /** Queues a call; the promise settles once it (and every call before it) is done. */
    enqueue(what: string, call: () => Promise<void>): Promise<void> {
      queue = queue.then(async () => {
        if (gaveUp) return;
        try {
          await call();
          failures = 0;
        } catch (err) {
          failures += 1;
          if (failures === 1) warn(`slack: ${what} failed (the run goes on): ${errorMessage(err)}`);
          if (failures >= GIVE_UP_AFTER) {
            gaveUp = true;
            warn(`slack: ${failures} calls in a row failed; no more Slack messages for this run`);
          }
        }
      });
      return queue;
    },
    /** Settles once every call queued so far is done. */
    idle: () => queue,
  };
}
