// What every run and drill leaves behind, wired into the session: the live Slack thread while it
// runs, then the reports from its journal and the thread's summary pointing at them. None of it
// can fail the run: problems become warnings in the journal.
import { relative } from 'node:path';
import type { Output } from '../system/output.js';
import type { EnvContext } from '../actions/types.js';
import type { RunEmitter } from '../engine/events.js';
import { journalPath } from '../system/run-paths.js';
import { errorMessage } from '../errors.js';
import { reportOfJournal } from './model.js';
import type { Report } from './schema.js';
import type { RunThread, SlackVerbosity } from './slack-run.js';
import { DEFAULT_REPORTS_DIR, writeReportFiles } from './write.js';

export interface EvidenceOptions {
  /** The reports directory (default reports/); false: no reports (the caller renders them). */
  reportsDir?: string | false;
  /** false: no Slack thread even when the environment has Slack (`--no-slack`). */
  slack?: boolean;
  slackVerbosity?: SlackVerbosity;
}

export interface EvidenceContext {
  runId: string;
  runbook: string;
  env: EnvContext;
  rtoMs?: number;
  stateDir: string;
  /** When the run first started (ISO), for a resumed run's elapsed time. */
  startedAt?: string;
  emitter: RunEmitter;
  secret(ref: string): Promise<string>;
  /** --json: stdout carries events only, so the report's place goes to stderr. */
  json?: boolean;
  io: Output;
}

export interface Evidence {
  /** After the run (and its drill) ended, before the journal closes. */
  finish(): Promise<void>;
  /** Only the reports, synchronously: for an exit that cannot wait for Slack (a second signal). */
  writeReport(): void;
}

export async function startEvidence(c: EvidenceContext, o: EvidenceOptions): Promise<Evidence> {
  const warn = (message: string) => c.emitter.emit({ type: 'log', level: 'warn', message });
  let thread: RunThread | undefined;
  if (c.env.slack && o.slack !== false) {
    const { openRunThread } = await import('./slack-run.js');
    thread = await openRunThread({
      slack: c.env.slack,
      runId: c.runId,
      stateDir: c.stateDir,
      runbook: c.runbook,
      environment: { name: c.env.name, label: c.env.label },
      rtoMs: c.rtoMs,
      startedAt: c.startedAt ? Date.parse(c.startedAt) : Date.now(),
      secret: c.secret,
      redactor: c.emitter.redactor,
      warn,
      verbosity: o.slackVerbosity,
    });
    c.emitter.subscribe(thread.subscriber);
  }
  const writeReport = () => {
    let report: Report | undefined;
    let location: string | undefined;
    try {
      // The journal this process is writing: read back unchecked (resume and `report` check it).
      report = reportOfJournal(journalPath(c.stateDir, c.runId), { check: false });
      if (o.reportsDir !== false) {
        const dir = writeReportFiles(report, o.reportsDir ?? DEFAULT_REPORTS_DIR);
        location = `${relative(process.cwd(), dir)}/report.html`;
        (c.json ? c.io.err : c.io.out)(`report: ${location}`);
      }
    } catch (err) {
      warn(`report: not written: ${errorMessage(err)}`);
    }
    return { report, location };
  };
  return {
    async finish() {
      const { report, location } = writeReport();
      await thread?.close(report, location);
    },
    writeReport,
  };
}
