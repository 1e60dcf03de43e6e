// metrics.prom: Prometheus text exposition format, for node_exporter's textfile collector. Each
// family once with HELP and TYPE, then its samples; labels runbook and environment on every one.
import { whole } from './chunks.js';
import type { Report, ReportStep } from './schema.js';
import { passed } from './text.js';

type Labels = Record<string, string>;
interface Sample {
  labels: Labels;
  value: number;
}
interface Family {
  name: string;
  help: string;
  /** Lazily for the steps' families: a long run has thousands of samples. */
  samples: Iterable<Sample>;
}

/** Label values escape backslash, double quote and newline (the format's rule). */
const labelValue = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labelsText = (labels: Labels) =>
  `{${Object.entries(labels)
    .map(([k, v]) => `${k}="${labelValue(v)}"`)
    .join(',')}}`;
const num = (v: number) => (Number.isFinite(v) ? String(Number(v.toFixed(6))) : v > 0 ? '+Inf' : '-Inf');

const one = (value: number | undefined, labels: Labels) => (value === undefined ? [] : [{ labels, value }]);
const secs = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);
const f = (name: string, help: string, samples: Family['samples']): Family => ({ name, help, samples });

export const renderProm = (r: Report): string => whole(promChunks(r));

/** metrics.prom in pieces, a line each, as written (see chunks.ts); a family without samples is left out. */
export function* promChunks(r: Report): Generator<string> {
  const base: Labels = { runbook: r.runbook.name, environment: r.environment.name };
  const families = [
    ...runFamilies(r, base),
    ...stepFamilies(r, base),
    ...(r.backups ? backupFamilies(r.backups, base) : []),
    ...(r.drill ? drillFamilies(r, r.drill, base) : []),
  ];
  let lines = 0;
  for (const family of families) {
    let first = true;
    for (const s of family.samples) {
      if (first) yield `# HELP ${family.name} ${family.help}\n# TYPE ${family.name} gauge\n`;
      first = false;
      yield `${family.name}${labelsText(s.labels)} ${num(s.value)}\n`;
      lines++;
    }
  }
  if (!lines) yield '\n';
}

function runFamilies(r: Report, base: Labels): Family[] {
  return [
    f(
      'drillbook_run_success',
      '1 when the run succeeded, 0 otherwise.',
      one(r.run.status === 'succeeded' ? 1 : 0, base),
    ),
    f('drillbook_run_duration_seconds', 'Duration of the run.', one(secs(r.run.durationMs), base)),
    f(
      'drillbook_run_rto_objective_seconds',
      'The RTO objective of the runbook.',
      one(secs(r.rto.objectiveMs), base),
    ),
    f(
      'drillbook_run_finished_timestamp_seconds',
      'When the run finished (Unix time).',
      one(r.run.finishedAt ? Date.parse(r.run.finishedAt) / 1000 : undefined, base),
    ),
    f(
      'drillbook_approval_wait_seconds',
      'Time spent waiting for approvals, counted apart.',
      one(secs(r.approvalWaitMs), base),
    ),
  ];
}

function stepFamilies(r: Report, base: Labels): Family[] {
  /** One sample per step for which `value` is defined. */
  const perStep = (value: (s: ReportStep) => number | undefined): Iterable<Sample> => ({
    *[Symbol.iterator]() {
      for (const s of r.steps) {
        const v = value(s);
        if (v !== undefined) yield { labels: { ...base, step: s.id, phase: s.phase }, value: v };
      }
    },
  });
  return [
    f(
      'drillbook_step_duration_seconds',
      'Duration of each step (approval waits included).',
      perStep((s) => secs(s.durationMs)),
    ),
    f(
      'drillbook_step_budget_seconds',
      'Budget of each step.',
      perStep((s) => secs(s.budgetMs)),
    ),
    f(
      'drillbook_step_success',
      '1 when the step succeeded within its budget, 0 otherwise.',
      perStep((s) =>
        s.durationMs === undefined ? undefined : s.status === 'succeeded' && !s.overBudget ? 1 : 0,
      ),
    ),
  ];
}

function backupFamilies(b: NonNullable<Report['backups']>, base: Labels): Family[] {
  // No backup label as a label: each run would start new series. The step and method say which.
  const made = b.made.map((m) => ({ m, labels: { ...base, step: m.stepId, method: m.method ?? 'unknown' } }));
  return [
    f(
      'drillbook_backup_success',
      '1 when the backup was made, verified and stored, 0 otherwise.',
      made.map(({ m, labels }) => ({ labels, value: m.verified ? 1 : 0 })),
    ),
    f(
      'drillbook_backup_size_bytes',
      'Size of the stored backup.',
      made.flatMap(({ m, labels }) => one(m.sizeBytes, labels)),
    ),
    f(
      'drillbook_backup_duration_seconds',
      'Time to make, verify and store the backup.',
      made.flatMap(({ m, labels }) => one(secs(m.durationMs), labels)),
    ),
    f(
      'drillbook_backup_throughput_bytes_per_second',
      'Backup size over its duration.',
      made.flatMap(({ m, labels }) => one(m.bytesPerSecond, labels)),
    ),
    f(
      'drillbook_backup_finished_timestamp_seconds',
      'When the verified backup was stored (Unix time); its age is time() minus this.',
      made.flatMap(({ m, labels }) => one(m.verified ? Date.parse(m.finishedAt) / 1000 : undefined, labels)),
    ),
    ...restoreFamilies(b, base),
  ];
}

function restoreFamilies(b: NonNullable<Report['backups']>, base: Labels): Family[] {
  const restores = [
    ...b.restoreTests.map((t) => ({ t, labels: { ...base, step: t.stepId, kind: 'restore-test' } })),
    ...b.pitr.map((t) => ({ t, labels: { ...base, step: t.stepId, kind: 'pitr' } })),
  ];
  return [
    f(
      'drillbook_restore_success',
      '1 when the restore test or point-in-time recovery succeeded, 0 otherwise.',
      restores.map(({ t, labels }) => ({ labels, value: t.status === 'succeeded' ? 1 : 0 })),
    ),
    f(
      'drillbook_restore_time_to_usable_seconds',
      'Time from the start of the restore to a usable instance.',
      restores.flatMap(({ t, labels }) =>
        one(secs(t.status === 'succeeded' ? t.timeToUsableMs : undefined), labels),
      ),
    ),
    f(
      'drillbook_restore_rto_met',
      '1 when the time to usable met the runbook’s RTO objective, 0 otherwise.',
      restores.flatMap(({ t, labels }) => one(t.rto && (t.rto.met ? 1 : 0), labels)),
    ),
  ];
}

function drillFamilies(r: Report, d: NonNullable<Report['drill']>, base: Labels): Family[] {
  const drill = { ...base, drill: d.name };
  const clients = d.clients ?? [];
  return [
    f(
      'drillbook_drill_success',
      '1 when the drill passed its objectives, 0 otherwise.',
      one(passed(r) ? 1 : 0, drill),
    ),
    f(
      'drillbook_drill_rto_seconds',
      'Client-observed recovery time of the drill.',
      one(secs(d.rto.actual), drill),
    ),
    f(
      'drillbook_drill_rto_objective_seconds',
      'The RTO objective of the drill.',
      one(d.rto.objective / 1000, drill),
    ),
    f('drillbook_drill_rpo_rows', 'Acknowledged probe rows lost.', one(d.rpo.actual, drill)),
    f(
      'drillbook_drill_rpo_objective_rows',
      'Acknowledged rows the drill may lose.',
      one(d.rpo.objective, drill),
    ),
    f(
      'drillbook_drill_rpo_bytes',
      'WAL between the old primary and the promotion point.',
      one(d.rpoBytes, drill),
    ),
    f(
      'drillbook_drill_split_brain_writes',
      'Writes acknowledged by the old primary after promotion.',
      one(d.splitBrainWrites, drill),
    ),
    f(
      'drillbook_drill_client_rto_seconds',
      'Client-observed recovery time per client profile.',
      clients.flatMap((c) => one(secs(c.rtoMs), { ...drill, profile: c.name })),
    ),
    f(
      'drillbook_drill_client_longest_gap_seconds',
      'Longest time between two acknowledged writes after the fault, per client profile.',
      clients.flatMap((c) => one(secs(c.longestGapMs), { ...drill, profile: c.name })),
    ),
    f(
      'drillbook_drill_client_failed_writes',
      'Writes that failed during the failover, per client profile.',
      clients.flatMap((c) => one(c.writesFailed, { ...drill, profile: c.name })),
    ),
    f(
      'drillbook_drill_client_rpo_rows',
      'Acknowledged rows lost, per client profile.',
      clients.flatMap((c) => one(c.rpoRows, { ...drill, profile: c.name })),
    ),
    f(
      'drillbook_drill_client_restore_outage_seconds',
      'Longest time without an acknowledged write while the restore ran, per client profile.',
      clients.flatMap((c) => one(secs(c.restoreOutageMs), { ...drill, profile: c.name })),
    ),
    f(
      'drillbook_drill_phase_duration_seconds',
      'Duration of each failover phase (approval waits included).',
      d.phases.map((p) => ({ labels: { ...drill, phase: p.phase }, value: p.durationMs / 1000 })),
    ),
  ];
}
