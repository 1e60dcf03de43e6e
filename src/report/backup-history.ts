// Backups and restores across runs, per environment, from the reports' backups sections alone (no
// store is read): each backup made with its size and throughput, each restore test and PITR with
// its time to usable and outcome, the age of the newest verified backup when each restore began
// and when the history is built, and a regression flag on the restore time like the one on RTO.
import { BACKUP_FIGURES, mbPerSecond, megabytes } from './backup-tables.js';
import type { Report } from './schema.js';
import { age, dur, metWord } from './text.js';
import { aligned, minute, percent, regressionOf, type Regression } from './trend.js';
import { esc } from './xml.js';

export interface BackupPoint {
  runId: string;
  dir: string;
  stepId: string;
  finishedAt: string;
  status: 'succeeded' | 'failed';
  label?: string;
  method?: string;
  sizeBytes?: number;
  durationMs?: number;
  bytesPerSecond?: number;
  verified: boolean;
  error?: string;
}

export interface RestorePoint {
  runId: string;
  dir: string;
  stepId: string;
  kind: 'restore-test' | 'pitr';
  /** When the restore step began (its end minus its wall time). */
  startedAt: string;
  status: 'succeeded' | 'failed';
  label?: string;
  timeToUsableMs?: number;
  rtoObjectiveMs?: number;
  rtoMet?: boolean;
  error?: string;
  /** The newest verified backup in the history that finished before this restore began, and its age then. */
  newestBackup?: { label?: string; ageMs: number };
}

export interface BackupHistory {
  environment: string;
  backups: BackupPoint[];
  restores: RestorePoint[];
  /** The newest verified backup and its age when the history was built. */
  newestVerified?: { label?: string; finishedAt: string; ageMs: number };
  /** The latest successful restore's time to usable against the median of the earlier ones, per kind. */
  regressions: (Regression & { kind: RestorePoint['kind'] })[];
}

export function backupHistory(reports: { report: Report; dir: string }[], now: number): BackupHistory[] {
  const byEnv = new Map<string, { backups: BackupPoint[]; restores: RestorePoint[] }>();
  for (const { report: r, dir } of reports) {
    const b = r.backups;
    if (!b) continue;
    const env = byEnv.get(r.environment.name) ?? { backups: [], restores: [] };
    byEnv.set(r.environment.name, env);
    const run = { runId: r.run.id, dir };
    for (const m of b.made)
      env.backups.push({
        ...run,
        stepId: m.stepId,
        finishedAt: m.finishedAt,
        status: m.status,
        ...pick(m, ['label', 'method', 'sizeBytes', 'durationMs', 'bytesPerSecond', 'error']),
        verified: m.verified,
      });
    const restores = [
      ...b.restoreTests.map((t) => ({ t, kind: 'restore-test' as const })),
      ...b.pitr.map((t) => ({ t, kind: 'pitr' as const })),
    ];
    for (const { t, kind } of restores)
      env.restores.push({
        ...run,
        stepId: t.stepId,
        kind,
        startedAt: new Date(Date.parse(t.finishedAt) - t.stepMs).toISOString(),
        status: t.status,
        ...pick(t, ['label', 'timeToUsableMs', 'error']),
        ...(t.rto && { rtoObjectiveMs: t.rto.objective, rtoMet: t.rto.met }),
      });
  }
  return [...byEnv]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([environment, { backups, restores }]) => {
      backups.sort((a, b) => a.finishedAt.localeCompare(b.finishedAt));
      restores.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
      const verified = backups.filter((x) => x.verified);
      const newestAt = (ms: number) => verified.findLast((x) => Date.parse(x.finishedAt) <= ms);
      for (const r of restores) {
        const at = Date.parse(r.startedAt);
        const newest = newestAt(at);
        if (newest)
          r.newestBackup = { ...pick(newest, ['label']), ageMs: at - Date.parse(newest.finishedAt) };
      }
      const newest = newestAt(now);
      const regressions = (['restore-test', 'pitr'] as const).flatMap((kind) => {
        const times = restores
          .filter((r) => r.kind === kind && r.status === 'succeeded' && r.timeToUsableMs !== undefined)
          .map((r) => r.timeToUsableMs!);
        const regression = regressionOf(times);
        return regression ? [{ kind, ...regression }] : [];
      });
      return {
        environment,
        backups,
        restores,
        ...(newest && {
          newestVerified: {
            ...pick(newest, ['label']),
            finishedAt: newest.finishedAt,
            ageMs: Math.max(0, now - Date.parse(newest.finishedAt)),
          },
        }),
        regressions,
      };
    });
}

/** The keys of `o` among `keys` whose value is defined. */
function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]])) as Partial<
    Pick<T, K>
  >;
}

/** The line above an environment's tables: counts, the newest verified backup's age, regressions. */
export function backupSummary(h: BackupHistory): string {
  const failedBackups = h.backups.filter((b) => b.status === 'failed').length;
  const failedRestores = h.restores.filter((r) => r.status === 'failed').length;
  const parts = [
    `${h.backups.length} backup(s)${failedBackups ? `, ${failedBackups} failed` : ''}`,
    h.newestVerified
      ? `newest verified ${h.newestVerified.label ?? '?'} (${minute(h.newestVerified.finishedAt)}), ${age(h.newestVerified.ageMs)} old`
      : 'no verified backup',
    `${h.restores.length} restore(s)${failedRestores ? `, ${failedRestores} failed` : ''}`,
  ];
  const flags = h.regressions
    .filter((r) => r.regressed)
    .map(
      (r) =>
        ` — REGRESSION: latest ${r.kind} time to usable ${dur(r.latestMs)} is ${percent(r.latestMs / r.medianMs - 1)} above the median ${dur(r.medianMs)} of the ones before`,
    );
  return parts.join('; ') + flags.join('');
}

const BACKUP_HEAD = ['finished', 'run', ...BACKUP_FIGURES, 'result'];
const backupColumns = (b: BackupPoint) => [
  minute(b.finishedAt),
  b.runId,
  b.label ?? '—',
  b.method ?? '—',
  megabytes(b.sizeBytes),
  dur(b.durationMs),
  mbPerSecond(b.bytesPerSecond),
  b.verified ? 'yes' : 'no',
  b.status === 'failed' ? `failed: ${b.error ?? ''}` : 'ok',
];

const RESTORE_HEAD = [
  'started',
  'run',
  'kind',
  'backup restored',
  'time to usable',
  'RTO objective',
  '',
  'result',
  'newest backup',
  'its age',
];
const restoreColumns = (r: RestorePoint) => [
  minute(r.startedAt),
  r.runId,
  r.kind,
  r.label ?? '—',
  dur(r.timeToUsableMs),
  dur(r.rtoObjectiveMs),
  metWord(r.rtoMet),
  r.status === 'failed' ? `failed: ${r.error ?? ''}` : 'ok',
  r.newestBackup?.label ?? '—',
  age(r.newestBackup?.ageMs),
];

/** The terminal text: per environment, the summary, the backups and the restores in time order. */
export function backupHistoryTable(history: BackupHistory[]): string {
  return history
    .map((h) =>
      [
        `backups on ${h.environment}: ${backupSummary(h)}`,
        ...(h.backups.length ? aligned([BACKUP_HEAD, ...h.backups.map(backupColumns)]) : []),
        ...(h.restores.length ? ['', ...aligned([RESTORE_HEAD, ...h.restores.map(restoreColumns)])] : []),
      ].join('\n'),
    )
    .join('\n\n');
}

/** Cells of a history row, the run linked to its report; a failed row's result in red. */
function rowHtml(cells: string[], dir: string, failed: boolean, missedAt?: number): string {
  const link = (i: number, c: string) =>
    i === 1 ? `<a href="${esc(`${encodeURIComponent(dir)}/report.html`)}">${esc(c)}</a>` : esc(c);
  const cls = (i: number) => ((i === cells.length - 1 && failed) || i === missedAt ? 'missed' : '');
  return `<tr class="${failed ? 'failed' : ''}">${cells.map((c, i) => `<td class="${cls(i)}">${link(i, c)}</td>`).join('')}</tr>`;
}

const tableHtml = (head: string[], rows: string[]) =>
  `<table><thead><tr>${head.map((x) => `<th>${esc(x)}</th>`).join('')}</tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;

/** The sections of reports/index.html for backups and restores. */
export function backupHistoryHtml(history: BackupHistory[]): string {
  return history
    .map((h) => {
      const regressed = h.regressions.some((r) => r.regressed);
      const out = [
        `<h2>${esc(`Backups on ${h.environment}`)}</h2>`,
        `<p class="${regressed ? 'missed' : ''}">${esc(backupSummary(h))}</p>`,
      ];
      if (h.backups.length)
        out.push(
          '<h3>Backups made</h3>',
          tableHtml(
            BACKUP_HEAD,
            h.backups.map((b) => rowHtml(backupColumns(b), b.dir, b.status === 'failed' || !b.verified)),
          ),
        );
      if (h.restores.length)
        out.push(
          '<h3>Restore tests and point-in-time recoveries</h3>',
          tableHtml(
            RESTORE_HEAD,
            h.restores.map((r) =>
              rowHtml(restoreColumns(r), r.dir, r.status === 'failed', r.rtoMet === false ? 6 : undefined),
            ),
          ),
        );
      return out.join('\n');
    })
    .join('\n');
}
