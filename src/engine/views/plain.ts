// Without a terminal: one timestamped line per event (logs, CI, `| tee`).
import { jsonOutput } from '../../json-output.js';
import type { Subscriber } from '../events.js';
import { describeEvent } from './describe.js';

export const plainView =
  (write: (line: string) => void): Subscriber =>
  (event) => {
    const text = describeEvent(event);
    if (text !== undefined) write(`${event.ts.slice(11, 23)} ${text}`);
  };

/** `--json`: the events themselves, one JSON object per line, each with the format version. */
export const jsonView =
  (write: (line: string) => void): Subscriber =>
  (event) =>
    write(jsonOutput(event));
