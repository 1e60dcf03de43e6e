// Bounded polling for effects that settle asynchronously (a health check, DNS propagation, a change
// going INSYNC). Aborting the signal stops the wait at once.
import { setTimeout as sleep } from 'node:timers/promises';

export interface PollOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Each wait is this many times the one before (default 1: a fixed interval), up to maxIntervalMs. */
  backoff?: number;
  maxIntervalMs?: number;
  signal?: AbortSignal;
}

/**
 * Calls `probe` until it returns something other than undefined, and returns that; returns
 * undefined once timeoutMs has passed (the caller names what did not happen).
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  { timeoutMs, intervalMs = 50, backoff = 1, maxIntervalMs = Infinity, signal }: PollOptions,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (let interval = intervalMs; ; interval = Math.min(interval * backoff, maxIntervalMs)) {
    signal?.throwIfAborted();
    const value = await probe();
    if (value !== undefined) return value;
    const left = deadline - Date.now();
    if (left <= 0) return undefined;
    await sleep(Math.min(interval, left), undefined, { signal });
  }
}
