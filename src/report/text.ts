// Wording shared by every renderer (Markdown, HTML, JUnit, Slack, history), so they say the same;
// the words of an outcome (verdict, met or missed, the RTO's name) come from src/schema/drill-outcome.ts.
import { formatDuration } from '../duration.js';
import { metWord, rtoLabelOf, verdictWord } from '../schema/drill-outcome.js';
import type { Report, ReportStep } from './schema.js';

export const dur = (ms: number | undefined) => (ms === undefined ? '—' : formatDuration(ms));

/** An age: a duration under an hour, else hours and minutes, else days and hours (`2d3h`). */
export function age(ms: number | undefined): string {
  if (ms === undefined || ms < 3_600_000) return dur(ms);
  const hours = Math.floor(ms / 3_600_000);
  if (hours < 48) {
    const m = Math.floor((ms % 3_600_000) / 60_000);
    return m ? `${hours}h${m}m` : `${hours}h`;
  }
  return hours % 24 ? `${Math.floor(hours / 24)}d${hours % 24}h` : `${hours / 24}d`;
}

/** `48.6s of 5m` — a measured time against what it was allowed. */
export const ofLimit = (ms: number | undefined, limit: number | undefined) =>
  limit === undefined ? dur(ms) : `${dur(ms)} of ${dur(limit)}`;

export const rows = (n: number | undefined) => (n === undefined ? '—' : `${n} row${n === 1 ? '' : 's'}`);

export { metWord, verdictWord };

/**
 * A status as a short word for text outputs (Markdown, terminal tables): no emoji glyph, which shows
 * as an empty box where no emoji font is installed. HTML draws icons.ts's SVG, Slack its own emoji.
 */
const STATUS_MARK: Record<Report['run']['status'] | ReportStep['status'], string> = {
  succeeded: 'ok',
  failed: 'FAILED',
  interrupted: 'stopped',
  incomplete: '…',
  skipped: 'skipped',
  'not-run': '·',
  running: 'running',
};
export const mark = (status: keyof typeof STATUS_MARK) => STATUS_MARK[status];

/** Whether the run (and its drill, when it is one) passed: what CI, metrics and history count. */
export function passed(report: Report): boolean {
  return report.drill ? report.drill.verdict === 'pass' : report.run.status === 'succeeded';
}

/** The whole outcome, for its icon: a drill's verdict, else the run's status. */
export const outcomeOf = (report: Report): string => report.drill?.verdict ?? report.run.status;

/** The one-line headline of a report. */
export function headline(report: Report): string {
  const where = `${report.runbook.name} on ${report.environment.name} (${report.environment.label})`;
  if (report.drill) return `Drill ${report.drill.name}: ${verdictWord(report.drill.verdict)} — ${where}`;
  return `Run ${report.run.status} — ${where}`;
}

/** A step's outcome in words: status, and why when it is not plainly fine. */
export function stepOutcome(s: ReportStep): string {
  if (s.status === 'failed') return s.continued ? 'failed (continued)' : 'failed';
  if (s.status === 'skipped') return `skipped${s.skipReason ? `: ${s.skipReason}` : ''}`;
  if (s.alreadyDone) return 'already done';
  return s.overBudget ? `${s.status}, over budget` : s.status;
}

/** The drill's RTO under the name of what it measured. */
export const rtoLabel = (d: NonNullable<Report['drill']>) => rtoLabelOf(d.rtoBasis);
