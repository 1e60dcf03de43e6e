// The standard session: the engine's run (lock, signals) with the journal and what people see of
// it attached — the terminal view, the reports and the run's Slack thread. Composed here, above the
// engine, for every way a run starts: `run`, `resume`, a drill, a drill's restore, the daemon.
import type { Output } from '../system/output.js';
import { parseDuration } from '../duration.js';
import type { RunSpec } from '../engine/run-spec.js';
import { summarize } from '../engine/run-spec.js';
import { journalStructure } from '../engine/events.js';
import { openJournal, type JournalHeader } from '../engine/journal.js';
import { runSession, type Attach, type SessionOptions } from '../engine/session.js';
import { journalPath } from '../system/run-paths.js';
import { jsonView, plainView } from '../engine/views/plain.js';
import { startEvidence, type EvidenceOptions } from '../report/evidence.js';
import { ttyAsk } from './tty-ask.js';

export interface StandardOptions extends Omit<SessionOptions, 'attach' | 'ask'>, EvidenceOptions {
  /** Run events as NDJSON on stdout instead of a view. */
  json?: boolean;
  /** false: plain lines even on a terminal (a run inside another's live view: a drill's restore). */
  live?: boolean;
  /** The journal header for a new run; absent when resuming (the journal is appended to). */
  header?: JournalHeader;
}

export function standardSession(spec: RunSpec, o: StandardOptions, io: Output): Promise<number> {
  const live = o.live !== false && !o.json && process.stdout.isTTY === true;
  return runSession(
    spec,
    {
      ...o,
      ask: process.stdin.isTTY ? ttyAsk(spec.operator, live ? undefined : process.stderr) : undefined,
      attach: [
        journal(o.header),
        view(spec, o.json ? 'json' : live ? 'live' : 'plain', io),
        evidence(spec, o, io),
      ],
    },
    io,
  );
}

/**
 * The run's journal: what `resume` and the reports read. Attached first, so it records every event
 * and closes last; a write that fails stops the run resumably (the header is redacted too).
 */
export const journal =
  (header: JournalHeader | undefined): Attach =>
  async ({ runId, stateDir, emitter, stateWriteFailed }) => {
    const writer = openJournal(
      journalPath(stateDir, runId),
      header && emitter.redactor.redact(header, journalStructure),
      stateWriteFailed,
    );
    emitter.subscribe(writer.subscriber);
    return { finish: async () => writer.close(), finishNow: () => writer.close() };
  };

/** The terminal's view of the run: NDJSON, plain lines, or the live task list. */
const view =
  (spec: RunSpec, kind: 'json' | 'plain' | 'live', io: Output): Attach =>
  async ({ emitter }) => {
    if (kind !== 'live') {
      emitter.subscribe(kind === 'json' ? jsonView(io.out) : plainView(io.out));
      return {};
    }
    const { liveView } = await import('../engine/views/live.js');
    const live = liveView(
      summarize(spec.runbook.steps, 'main'),
      summarize(spec.runbook.rollback ?? [], 'rollback'),
    );
    emitter.subscribe(live.subscriber);
    return { settled: () => live.done };
  };

/** The reports and the run's Slack thread (report/evidence.ts). */
export const evidence =
  (spec: RunSpec, o: StandardOptions, io: Output): Attach =>
  async ({ emitter, secret, stateDir }) => {
    const e = await startEvidence(
      {
        runId: spec.runId,
        runbook: spec.runbook.metadata.name,
        env: spec.env,
        rtoMs: parseDuration(spec.runbook.objectives?.rto ?? ''),
        stateDir,
        startedAt: o.resume?.startedAt,
        emitter,
        secret,
        json: o.json,
        io,
      },
      o,
    );
    return { finish: e.finish, finishNow: e.writeReport };
  };
