// The backups section of the report model: the figures of each finished backup, restore-test and
// pitr step, read from its step-finished event's outputs as the action returned them (the step
// table keeps only one-line summaries). A failed step has no outputs: what is known of it (the
// label or target asked for) comes from its step-started input. Journal only, like the rest.
import type { RunEvent } from '../engine/events.js';
import type { ReportBackup, ReportBackups, ReportPitr, ReportRestoreTest, ReportStep } from './schema.js';

type Finished = Extract<RunEvent, { type: 'step-finished' }>;
type Fields = Record<string, unknown>;

export const BACKUP_KINDS = new Set(['backup', 'restore-test', 'pitr']);

const record = (v: unknown): Fields => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Fields) : {});
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** Leaves out the keys whose value is undefined (the schema has optional keys, not undefined ones). */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Bytes per second; undefined when there is no time to divide by. */
export function throughput(bytes: number | undefined, ms: number | undefined): number | undefined {
  if (bytes === undefined || !ms) return undefined;
  return Math.round((bytes / ms) * 1000);
}

export class BackupFigures {
  private readonly inputs = new Map<string, Fields>();
  private readonly made = new Map<string, ReportBackup>();
  private readonly restoreTests = new Map<string, ReportRestoreTest>();
  private readonly pitr = new Map<string, ReportPitr>();

  /** Remembers what a step was asked to do, for when it fails without outputs. */
  started(stepId: string, kind: string, input: unknown): void {
    if (BACKUP_KINDS.has(kind)) this.inputs.set(stepId, record(input));
  }

  /** Takes the figures of a finished step (the step as the model has it, and its event). */
  finished(step: ReportStep, e: Finished): void {
    if (!BACKUP_KINDS.has(step.kind)) return;
    const out = record(e.outputs);
    const input = this.inputs.get(step.id) ?? {};
    const base = {
      stepId: step.id,
      status: e.status,
      error: e.error,
      finishedAt: e.ts,
      stepMs: e.durationMs,
      budgetMs: step.budgetMs,
      overBudget: step.overBudget,
      label: str(out.label) ?? str(input.label),
    };
    // A resumed run may finish a step again: the last word counts, in the place of the first.
    if (step.kind === 'backup') {
      const sizeBytes = num(out.sizeBytes);
      const durationMs = num(out.durationMs);
      this.made.set(
        step.id,
        defined({
          ...base,
          method: str(out.method) ?? str(input.method),
          sizeBytes,
          durationMs,
          makeMs: num(out.makeMs),
          verifyMs: num(out.verifyMs),
          storeMs: num(out.storeMs),
          bytesPerSecond: throughput(sizeBytes, durationMs),
          verified: e.status === 'succeeded' && out.verified === true,
          location: str(out.location),
          removed: Array.isArray(out.removed) ? out.removed.filter((x) => typeof x === 'string') : [],
          startLsn: str(out.startLsn),
          stopLsn: str(out.stopLsn),
        }),
      );
    } else if (step.kind === 'restore-test') {
      const indexes = out.indexesChecked;
      this.restoreTests.set(
        step.id,
        defined({
          ...base,
          method: str(out.method),
          sizeBytes: num(out.sizeBytes),
          backupAgeMs: num(out.backupAgeMs),
          fetchMs: num(out.fetchMs),
          timeToUsableMs: num(out.timeToUsableMs),
          verifyMs: num(out.verifyMs),
          totalMs: num(out.totalMs),
          tablesChecked: num(out.tablesChecked),
          indexesChecked: indexes === 'unavailable' ? indexes : num(indexes),
        }),
      );
    } else {
      // The outputs name the setting (recovery_target_time); the input its short form (time).
      const target = out.target
        ? Object.entries(record(out.target))
        : Object.entries(record(input.target)).map(([k, v]) => [`recovery_target_${k}`, v] as const);
      this.pitr.set(
        step.id,
        defined({
          ...base,
          target: Object.fromEntries(
            target.filter(([, v]) => v !== undefined && v !== null).map(([k, v]) => [k, String(v)]),
          ),
          stoppedAt: str(out.stoppedAt),
          timeToUsableMs: num(out.timeToUsableMs),
          recoveryMs: num(out.recoveryMs),
          checks: Array.isArray(out.checks)
            ? out.checks
                .map(record)
                .map((c) => ({ query: String(c.query ?? ''), value: String(c.value ?? '') }))
            : [],
        }),
      );
    }
  }

  /** The section, with each restore's time to usable against the RTO objective; undefined if empty. */
  build(rtoObjectiveMs: number | undefined): ReportBackups | undefined {
    const against = <T extends ReportRestoreTest | ReportPitr>(r: T): T => {
      if (rtoObjectiveMs === undefined) return r;
      const actual = r.status === 'succeeded' ? r.timeToUsableMs : undefined;
      return {
        ...r,
        rto: {
          objective: rtoObjectiveMs,
          ...(actual !== undefined && { actual }),
          met: actual !== undefined && actual <= rtoObjectiveMs,
        },
      };
    };
    const section: ReportBackups = {
      made: [...this.made.values()],
      restoreTests: [...this.restoreTests.values()].map(against),
      pitr: [...this.pitr.values()].map(against),
    };
    return section.made.length || section.restoreTests.length || section.pitr.length ? section : undefined;
  }
}
