// The Backups section as tables, shared by report.md and report.html so they say the same: backups
// with size, duration and throughput; restore tests and PITR with the time to a usable instance
// against the RTO objective. A cell's class tells HTML how to show it (Markdown keeps the text).
import type { ReportBackups, ReportStep } from './schema.js';
import { age, dur, mark, metWord, ofLimit } from './text.js';

export interface Cell {
  text: string;
  /** How HTML shows it: a number, a met (green) or missed (red) figure; a word is never broken. */
  cls?: 'num' | 'met' | 'missed' | 'met word' | 'missed word';
  /** A status HTML draws as its icon (Markdown keeps the text). */
  icon?: string;
}
export interface BackupTable {
  title: string;
  head: string[];
  rows: { failed: boolean; cells: Cell[] }[];
}

/** Megabytes (10^6 bytes), two decimals under 10 MB. */
export const megabytes = (bytes: number | undefined) =>
  bytes === undefined ? '—' : (bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 1);

/** The columns of a backup's figures, here and in the history. */
export const BACKUP_FIGURES = ['label', 'method', 'size (MB)', 'duration', 'MB/s', 'verified'];

/** Throughput in megabytes per second. */
export const mbPerSecond = (bytesPerSecond: number | undefined) =>
  bytesPerSecond === undefined ? '—' : (bytesPerSecond / 1e6).toFixed(2);

const num = (text: string): Cell => ({ text, cls: 'num' });
const count = (n: number | string | undefined) => num(n === undefined ? '—' : String(n));

function outcome(s: { status: ReportStep['status']; error?: string; overBudget: boolean }): Cell {
  if (s.status === 'failed') return { text: `failed: ${s.error ?? 'unknown error'}`, cls: 'missed' };
  return s.overBudget ? { text: 'ok, over budget', cls: 'missed' } : { text: 'ok' };
}

function objective(rto: { objective: number; actual?: number; met: boolean } | undefined): Cell[] {
  if (!rto) return [{ text: '—' }, { text: '' }];
  return [num(dur(rto.objective)), { text: metWord(rto.met), cls: rto.met ? 'met word' : 'missed word' }];
}

export function backupTables(b: ReportBackups): BackupTable[] {
  const tables: BackupTable[] = [];
  if (b.made.length)
    tables.push({
      title: 'Backups made',
      head: ['', 'step', ...BACKUP_FIGURES, 'stored in', 'retention removed', 'WAL', 'outcome'],
      rows: b.made.map((m) => ({
        failed: m.status === 'failed',
        cells: [
          { text: mark(m.status), icon: m.status },
          { text: m.stepId },
          { text: m.label ?? '—' },
          { text: m.method ?? '—' },
          num(megabytes(m.sizeBytes)),
          num(dur(m.durationMs)),
          num(mbPerSecond(m.bytesPerSecond)),
          m.verified ? { text: 'yes', cls: 'met word' } : { text: 'no', cls: 'missed word' },
          { text: m.location ?? '—' },
          { text: m.removed.join(', ') || 'none' },
          { text: m.startLsn && m.stopLsn ? `${m.startLsn} → ${m.stopLsn}` : '—' },
          outcome(m),
        ],
      })),
    });
  if (b.restoreTests.length)
    tables.push({
      title: 'Restore tests',
      head: [
        '',
        'step',
        'backup restored',
        'backup age',
        'time to usable',
        'RTO objective',
        '',
        'total',
        'tables',
        'indexes',
        'step time',
        'outcome',
      ],
      rows: b.restoreTests.map((t) => ({
        failed: t.status === 'failed',
        cells: [
          { text: mark(t.status), icon: t.status },
          { text: t.stepId },
          { text: t.label ?? '—' },
          num(age(t.backupAgeMs)),
          num(dur(t.timeToUsableMs)),
          ...objective(t.rto),
          num(dur(t.totalMs)),
          count(t.tablesChecked),
          count(t.indexesChecked),
          num(ofLimit(t.stepMs, t.budgetMs)),
          outcome(t),
        ],
      })),
    });
  if (b.pitr.length)
    tables.push({
      title: 'Point-in-time recoveries',
      head: [
        '',
        'step',
        'base backup',
        'target',
        'stopped at',
        'time to usable',
        'RTO objective',
        '',
        'recovery',
        'checks',
        'step time',
        'outcome',
      ],
      rows: b.pitr.map((p) => ({
        failed: p.status === 'failed',
        cells: [
          { text: mark(p.status), icon: p.status },
          { text: p.stepId },
          { text: p.label ?? '—' },
          {
            text:
              Object.entries(p.target ?? {})
                .map(([k, v]) => `${k} = ${v}`)
                .join(', ') || '—',
          },
          { text: p.stoppedAt ?? '—' },
          num(dur(p.timeToUsableMs)),
          ...objective(p.rto),
          num(dur(p.recoveryMs)),
          { text: p.checks.map((c) => `${c.query} = ${c.value}`).join('; ') || 'none' },
          num(ofLimit(p.stepMs, p.budgetMs)),
          outcome(p),
        ],
      })),
    });
  return tables;
}

/** What an RTO objective says in one line: "/ RTO 10m met", or nothing without an objective. */
const rtoWords = (rto: { objective: number; met: boolean } | undefined) =>
  rto ? ` / RTO ${dur(rto.objective)} ${metWord(rto.met)}` : '';

/**
 * The backups section in a few lines, for summaries too short for tables (the Slack summary): one
 * line per backup, restore test and PITR, its outcome first as `icon` draws it (Slack's emoji).
 */
export function backupSummaryLines(b: ReportBackups, icon: (status: string) => string): string[] {
  const failed = (s: Parameters<typeof outcome>[0]) =>
    s.status === 'failed' ? `: ${outcome(s).text}` : undefined;
  return [
    ...b.made.map(
      (m) =>
        `${icon(m.status)} backup ${m.label ?? m.stepId}` +
        (failed(m) ??
          `: ${megabytes(m.sizeBytes)} MB in ${dur(m.durationMs)} (${mbPerSecond(m.bytesPerSecond)} MB/s), ${m.verified ? 'verified' : 'NOT verified'}`),
    ),
    ...b.restoreTests.map(
      (t) =>
        `${icon(t.status)} restore test of ${t.label ?? 'the newest backup'}` +
        (failed(t) ??
          `: usable in ${dur(t.timeToUsableMs)}${rtoWords(t.rto)}, backup age ${age(t.backupAgeMs)}`),
    ),
    ...b.pitr.map(
      (p) =>
        `${icon(p.status)} PITR from ${p.label ?? 'the newest backup'}` +
        (failed(p) ?? `: usable in ${dur(p.timeToUsableMs)}${rtoWords(p.rto)}`),
    ),
  ];
}
