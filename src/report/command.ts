// `drillbook report RUN_ID` (re-render from the journal) and `drillbook report --history` behind
// the thin CLI module, which loads this file only when the command runs.
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Output } from '../system/output.js';
import { stateDirOf } from '../system/run-paths.js';
import { ExitCode, UserError } from '../errors.js';
import { backupHistory } from './backup-history.js';
import { historyGroups, historyHtml, historyTable, readReports } from './history.js';
import { DEFAULT_REPORTS_DIR, REPORT_FORMATS, parseFormats, writeReports } from './write.js';

export interface ReportOptions {
  runId?: string;
  formats?: string;
  /** The reports directory: where a run's folder is written, and what --history reads. */
  out?: string;
  history?: boolean;
  stateDir?: string;
}

export function reportCommand(o: ReportOptions, io: Output): number {
  const out = o.out ?? DEFAULT_REPORTS_DIR;
  if (o.history) {
    if (o.runId) throw new UserError('report: give a run id or --history, not both');
    const reports = readReports(out);
    const groups = historyGroups(reports);
    // Backup ages are counted to now: the one figure of the history that is not in the reports.
    const backups = backupHistory(reports, Date.now());
    const index = join(out, 'index.html');
    writeFileSync(index, historyHtml(groups, backups));
    io.out(historyTable(groups, backups));
    io.out(`\nhistory: ${index}`);
    return ExitCode.ok;
  }
  if (!o.runId) throw new UserError('report: give a run id (see runs/ in the state directory), or --history');
  const formats = o.formats ? parseFormats(o.formats) : REPORT_FORMATS;
  const dir = writeReports(stateDirOf(o.stateDir), o.runId, out, formats);
  io.out(`report of ${o.runId}: ${relative(process.cwd(), dir) || '.'}/ (${formats.join(', ')})`);
  return ExitCode.ok;
}
