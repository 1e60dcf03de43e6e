// Synthetic journals of backup, restore-test and pitr runs, shaped like the runbooks in runbooks/:
// each step starts and finishes in turn, with the outputs the actions return.
import type { RunEvent } from '../../src/engine/events.js';
import type { Journal } from '../../src/engine/journal.js';

export interface SyntheticStep {
  id: string;
  kind: string;
  budgetMs?: number;
  input?: Record<string, unknown>;
  durationMs: number;
  outputs?: Record<string, unknown>;
  /** A failed step has no outputs, only its error. */
  error?: string;
}

/** A run of `runbook` starting at `createdAt`, its steps one after another; it fails at the first error. */
export function syntheticJournal(o: {
  runId: string;
  runbook: string;
  createdAt: string;
  rtoMs?: number;
  steps: SyntheticStep[];
}): Journal {
  const start = Date.parse(o.createdAt);
  let t = 5;
  const ts = () => new Date(start + t).toISOString();
  const runbook = { name: o.runbook, path: `runbooks/${o.runbook}.yaml`, sha256: 'cd'.repeat(32) };
  const environment = { name: 'lab', label: 'staging' };
  const events: RunEvent[] = [
    {
      type: 'run-started',
      runId: o.runId,
      runbook,
      environment,
      operator: 'sre@bastion',
      ...(o.rtoMs !== undefined && { rtoMs: o.rtoMs }),
      steps: o.steps.map((s) => ({
        id: s.id,
        kind: s.kind,
        phase: 'main' as const,
        ...(s.budgetMs !== undefined && { budgetMs: s.budgetMs }),
      })),
      ts: ts(),
      t,
    },
  ];
  let failed: SyntheticStep | undefined;
  for (const s of o.steps) {
    t += 10;
    events.push({
      type: 'step-started',
      stepId: s.id,
      kind: s.kind,
      phase: 'main',
      input: s.input ?? {},
      attempts: 1,
      ...(s.budgetMs !== undefined && { budgetMs: s.budgetMs }),
      runId: o.runId,
      ts: ts(),
      t,
    });
    t += s.durationMs;
    events.push({
      type: 'step-finished',
      stepId: s.id,
      phase: 'main',
      status: s.error ? 'failed' : 'succeeded',
      durationMs: s.durationMs,
      waitMs: 0,
      attempts: 1,
      outputs: s.error ? {} : (s.outputs ?? {}),
      ...(s.error !== undefined && { error: s.error, continued: false }),
      runId: o.runId,
      ts: ts(),
      t,
    });
    if (s.error) {
      failed = s;
      break;
    }
  }
  t += 5;
  const rtoMet = o.rtoMs === undefined ? undefined : !failed && t <= o.rtoMs;
  events.push({
    type: 'run-finished',
    status: failed ? 'failed' : 'succeeded',
    durationMs: t,
    ...(failed && { failedStep: failed.id, error: failed.error }),
    ...(o.rtoMs !== undefined && { rtoMs: o.rtoMs, rtoMet }),
    runId: o.runId,
    ts: ts(),
    t,
  });
  return {
    header: {
      type: 'journal',
      version: 1,
      runId: o.runId,
      createdAt: o.createdAt,
      runbook,
      inventory: 'inventory.yaml',
      environment,
      inputs: { store: '/var/backups/drillbook' },
      operator: 'sre@bastion',
      pid: 4242,
    },
    events,
  };
}

const STORE = '/var/backups/drillbook';
const day = (d: number, hour = 1) =>
  `2025-04-${String(d).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00.000Z`;
const label = (d: number) => `base-202504${String(d).padStart(2, '0')}T010000Z`;

/** backup-full on day `d`: a verified base backup of `sizeBytes` made in `durationMs`, or a failure. */
export function backupRun(
  d: number,
  o: { sizeBytes?: number; durationMs?: number; error?: string; removed?: string[] } = {},
): Journal {
  const durationMs = o.durationMs ?? 8000;
  const sizeBytes = o.sizeBytes ?? 40_000_000;
  return syntheticJournal({
    runId: `202504${String(d).padStart(2, '0')}-010000-backup-full-b${d}`,
    runbook: 'backup-full',
    createdAt: day(d),
    rtoMs: 3_600_000,
    steps: [
      { id: 'verify-primary', kind: 'verify', budgetMs: 10_000, durationMs: 40, outputs: { ok: true } },
      {
        id: 'backup',
        kind: 'backup',
        budgetMs: 1_800_000,
        input: { method: 'basebackup', storage: { type: 'local', path: STORE }, keep: 7 },
        durationMs: durationMs + 30,
        ...(o.error !== undefined
          ? { error: o.error }
          : {
              outputs: {
                label: label(d),
                method: 'basebackup',
                sizeBytes,
                durationMs,
                makeMs: durationMs - 3000,
                verifyMs: 2000,
                storeMs: 1000,
                startLsn: '0/2000028',
                stopLsn: '0/2000138',
                sha256: 'ef'.repeat(32),
                location: `${STORE}/${label(d)}`,
                verified: true,
                removed: o.removed ?? [],
                tables: [{ table: 'public.accounts', rows: 1000, sum: 'abc' }],
              },
            }),
      },
    ],
  });
}

/** restore-test on day `d` at `hour`: the newest backup (`of`) usable after `timeToUsableMs`, or a failure. */
export function restoreRun(
  d: number,
  o: { of: number; timeToUsableMs?: number; error?: string; hour?: number; rtoMs?: number },
): Journal {
  const timeToUsableMs = o.timeToUsableMs ?? 20_000;
  return syntheticJournal({
    runId: `202504${String(d).padStart(2, '0')}-030000-restore-test-r${d}`,
    runbook: 'restore-test',
    createdAt: day(d, o.hour ?? 3),
    rtoMs: o.rtoMs ?? 1_800_000,
    steps: [
      { id: 'recent', kind: 'verify', budgetMs: 10_000, durationMs: 20, outputs: { ok: true } },
      {
        id: 'restore',
        kind: 'restore-test',
        budgetMs: 1_200_000,
        input: { storage: { type: 'local', path: STORE } },
        durationMs: timeToUsableMs + 5000,
        ...(o.error !== undefined
          ? { error: o.error }
          : {
              outputs: {
                label: label(o.of),
                method: 'basebackup',
                sizeBytes: 40_000_000,
                backupAgeMs: (d - o.of) * 86_400_000 + 2 * 3_600_000,
                fetchMs: 3000,
                timeToUsableMs,
                verifyMs: 4000,
                totalMs: timeToUsableMs + 4000,
                port: 54321,
                tablesChecked: 3,
                indexesChecked: 5,
              },
            }),
      },
    ],
  });
}

/**
 * One run of every kind on day 10: a backup, a restore test usable after 20 s against an RTO of
 * 15 s (missed), and a PITR that failed (its target known from its input only).
 */
export function allKindsRun(): Journal {
  const backup = backupRun(10).events.find((e) => e.type === 'step-finished' && e.stepId === 'backup');
  const restore = restoreRun(11, { of: 10 }).events.find(
    (e) => e.type === 'step-finished' && e.stepId === 'restore',
  );
  const outputs = (e: RunEvent | undefined) => (e?.type === 'step-finished' ? e.outputs : {});
  return syntheticJournal({
    runId: '20250410-120000-backup-all-k1',
    runbook: 'backup-all',
    createdAt: day(10, 12),
    rtoMs: 15_000,
    steps: [
      { id: 'backup', kind: 'backup', budgetMs: 1_800_000, durationMs: 8030, outputs: outputs(backup) },
      {
        id: 'restore',
        kind: 'restore-test',
        budgetMs: 10_000,
        durationMs: 25_000,
        outputs: outputs(restore),
      },
      {
        id: 'pitr',
        kind: 'pitr',
        input: { label: label(10), target: { time: '2025-04-10 12:00:30+00' }, archive: '/lab/archive' },
        durationMs: 4000,
        error:
          'recovery ended before reaching the target: WAL segment 000000010000000000000003 is not in the archive /lab/archive',
      },
    ],
  });
}
