// GET /runs/:id/events: a run's events as server-sent events — its journal so far, then each new
// event as the run emits it (a run this serve started), or as it reaches the journal (a run another
// process runs, read again every second). The journal is read and the live stream subscribed in the
// same tick, so no event is lost or sent twice between the two.
import type { ServerResponse } from 'node:http';
import { scanJournal } from '../../engine/journal.js';
import type { RunEmitter, RunEvent } from '../../engine/events.js';

const KEEPALIVE_MS = 15_000;
const POLL_MS = 1000;

/** The open streams, so serve's shutdown can end them (else closing would wait for the browsers). */
export type OpenStreams = Set<() => void>;

export function streamRun(
  res: ServerResponse,
  o: { journal: string; emitter?: RunEmitter; open: OpenStreams; onClose(listener: () => void): void },
): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    connection: 'keep-alive',
  });
  res.write(`event: hello\ndata: ${JSON.stringify({ now: Date.now() })}\n\n`);
  let sent = 0;
  let finished = false;
  const send = (e: RunEvent) => {
    sent++;
    // JSON.stringify escapes every newline: one event is one data line.
    res.write(`data: ${JSON.stringify(e)}\n\n`);
    if (e.type === 'run-finished') finished = true;
  };
  const readFrom = (from: number) => {
    let n = 0;
    scanJournal(
      o.journal,
      () => {},
      (e) => {
        if (n++ >= from) send(e);
      },
      { check: false },
    );
  };
  readFrom(0);
  const timers: NodeJS.Timeout[] = [setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS)];
  let unsubscribe = () => {};
  const end = () => {
    unsubscribe();
    timers.forEach(clearInterval);
    o.open.delete(end);
    if (!res.writableEnded) res.end('event: end\ndata: {}\n\n');
  };
  o.open.add(end);
  o.onClose(end);
  if (finished) return end();
  if (o.emitter)
    unsubscribe = o.emitter.subscribe((e) => {
      send(e);
      // A stopped run emits nothing more here; `drillbook resume` continues it in another process.
      if (finished || e.type === 'run-stopped') end();
    });
  else
    timers.push(
      setInterval(() => {
        readFrom(sent);
        if (finished) end();
      }, POLL_MS),
    );
}
