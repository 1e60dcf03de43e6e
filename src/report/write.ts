// Writes a run's reports from its journal into reports/<date>-<runbook>-<run-id>/. Called at the
// end of every run and drill (engine/session.ts) and by `drillbook report`.
import { chmodSync, mkdirSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_REPORTS_DIR, journalPath, privateDir, reportDirName } from '../system/run-paths.js';
import { UserError } from '../errors.js';
import { jsonChunks, writeChunks } from './chunks.js';
import { htmlChunks } from './html.js';
import { junitChunks } from './junit.js';
import { markdownChunks } from './markdown.js';
import { reportOfJournal } from './model.js';
import { promChunks } from './prom.js';
import type { Report } from './schema.js';

function* jsonFile(r: Report): Generator<string> {
  yield* jsonChunks(r);
  yield '\n';
}

/** Each format's file, rendered in pieces as it is written (see chunks.ts). */
const RENDERERS = {
  md: { file: 'report.md', render: markdownChunks },
  html: { file: 'report.html', render: htmlChunks },
  json: { file: 'report.json', render: jsonFile },
  junit: { file: 'junit.xml', render: junitChunks },
  prom: { file: 'metrics.prom', render: promChunks },
} as const;

// Actions (diverge) write beside a run's reports too, so the names live in system/run-paths.ts.
export { DEFAULT_REPORTS_DIR, reportDirName };

export type ReportFormat = keyof typeof RENDERERS;
export const REPORT_FORMATS = Object.keys(RENDERERS) as ReportFormat[];

export function parseFormats(list: string): ReportFormat[] {
  const formats = list
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  const unknown = formats.filter((f) => !(f in RENDERERS));
  if (unknown.length || !formats.length)
    throw new UserError(
      `unknown report format(s) "${unknown.join(', ') || list}": use ${REPORT_FORMATS.join(', ')}`,
    );
  return formats as ReportFormat[];
}

/** Renders the formats of one report model into its directory; returns the directory. */
export function writeReportFiles(
  report: Report,
  outDir: string,
  formats: ReportFormat[] = REPORT_FORMATS,
): string {
  const dir = resolve(
    outDir,
    reportDirName({ ...report.run, runId: report.run.id, runbook: report.runbook }),
  );
  // A report holds what the journal holds: private like it (a reports/ made here is 0700 too; an
  // existing --out directory is the operator's and keeps its mode).
  mkdirSync(outDir, { recursive: true, mode: 0o700 });
  privateDir(dir);
  for (const format of formats) {
    const { file, render } = RENDERERS[format];
    // Written aside and renamed: a reader (a dashboard, the history page) never sees half a file.
    const path = join(dir, file);
    writeChunks(`${path}.tmp`, render(report));
    chmodSync(`${path}.tmp`, 0o600); // an earlier run's leftover .tmp keeps its mode otherwise
    renameSync(`${path}.tmp`, path);
  }
  return dir;
}

/**
 * The reports of run `runId` (journal under `stateDir`), rebuilt from its journal alone; returns
 * the report directory. Drills get theirs from the session they run in.
 */
export function writeReports(
  stateDir: string,
  runId: string,
  outDir: string = DEFAULT_REPORTS_DIR,
  formats: ReportFormat[] = REPORT_FORMATS,
): string {
  return writeReportFiles(reportOfJournal(journalPath(stateDir, runId)), outDir, formats);
}
