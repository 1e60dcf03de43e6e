// V8 sizes its heap for throughput: under the allocation of a long run (parse, then one journal
// line, events and a report entry per step) the young generation grows to 3 x 16 MB and the old
// generation to a multiple of the live heap, so peak RSS grew ~48 MB from 1,000 to 10,000 steps
// while the live heap grew ~2 MB. A drillbook process is short-lived and mostly waits on I/O, so
// it trades a little collector time for memory.
import { setFlagsFromString } from 'node:v8';

/**
 * Keeps the young generation at its initial size and the old generation close to the live heap.
 * The collector reads both flags at each collection, so setting them at run time works (a node
 * command-line flag would not: `node bin/drillbook.js` bypasses a shebang). Call it before the CLI's
 * code loads: loading it already allocates enough for the young generation to grow.
 */
export function useSmallHeap(): void {
  setFlagsFromString('--optimize-for-size --semi-space-growth-factor=1');
}
