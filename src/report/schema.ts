// The report model's schema: what report.json holds. It is built from the journal alone (model.ts),
// so a report can be rebuilt at any time. Times named `...AtMs` are offsets from the run's first
// event; durations are milliseconds. Not a document kind: `validate` never loads it.
import { Type, type Static } from '@sinclair/typebox';
import { OneOf, Strict } from '../schema/common.js';
import { ReportCloudEvent } from './cloud-events.js';
import { DRILL_VERDICTS, PatroniFigures, RTO_BASES, RUN_STATUSES } from '../schema/drill-outcome.js';

export const REPORT_VERSION = 1;

const Ms = (description: string) => Type.Number({ minimum: 0, description });
const Opt = Type.Optional;

export const ReportStep = Strict({
  id: Type.String(),
  kind: Type.String(),
  name: Opt(Type.String()),
  phase: OneOf(['main', 'rollback']),
  status: OneOf(['succeeded', 'failed', 'skipped', 'not-run', 'running']),
  startAtMs: Opt(Ms('when the step (last) started')),
  durationMs: Opt(Ms('wall time, approval waits included')),
  waitMs: Ms('time waiting for approvals, counted apart'),
  budgetMs: Opt(Ms('the step’s budget')),
  overBudget: Type.Boolean(),
  attempts: Type.Integer({ minimum: 0 }),
  attemptErrors: Type.Array(Type.String(), { description: 'errors of failed attempts, in order' }),
  outputs: Type.Record(Type.String(), Type.String(), { description: 'outputs, each summarized to a line' }),
  error: Opt(Type.String()),
  continued: Opt(Type.Boolean({ description: 'failed, and the run went on (continueOnError)' })),
  alreadyDone: Opt(Type.Boolean({ description: 'found done on resume, not redone' })),
  skipReason: Opt(Type.String()),
});

export const ReportApproval = Strict({
  stepId: Type.String(),
  message: Type.String(),
  requestedAtMs: Ms('when the approval was asked for'),
  outcome: OneOf(['granted', 'denied', 'pending']),
  by: Opt(Type.String()),
  waitMs: Ms('time until the answer (or the end of the run)'),
});

const Objective = (unit: string) =>
  Strict({
    objective: Type.Number({ minimum: 0, description: `the objective (${unit})` }),
    actual: Opt(Type.Number({ minimum: 0, description: `what was measured (${unit}); absent: never` })),
    met: Type.Boolean(),
  });

export const ReportDrill = Strict({
  name: Type.String(),
  path: Type.String(),
  fault: Strict({
    kind: Type.String(),
    node: Type.String(),
    durationMs: Opt(Ms('how long the fault was to last')),
    atMs: Opt(Ms('when the fault took effect')),
    detail: Opt(Type.String()),
    reverted: Type.Boolean(),
    revertError: Opt(Type.String()),
  }),
  probe: Strict({
    route: Type.String(),
    intervalMs: Ms('time between writes'),
    writesSent: Type.Integer({ minimum: 0 }),
    writesAcked: Type.Integer({ minimum: 0 }),
    writesFailed: Type.Integer({ minimum: 0 }),
    longestGapMs: Opt(Ms('longest time between two acknowledgements after the fault')),
    outage: Opt(Strict({ fromAtMs: Ms('first failed write'), toAtMs: Ms('first acknowledged one after') })),
  }),
  profile: Opt(Type.String({ description: 'the client profile the objectives judged' })),
  clients: Opt(
    Type.Array(
      Strict({
        name: Type.String(),
        route: Type.String(),
        connectTimeoutMs: Ms('connect timeout'),
        writeTimeoutMs: Ms('write timeout'),
        reconnectDelayMs: Ms('pause after an error before reconnecting'),
        rtoMs: Opt(Ms('first acknowledged write after the fault, minus the fault time')),
        longestGapMs: Ms('longest time between two acknowledgements after the fault'),
        writesSent: Type.Integer({ minimum: 0 }),
        writesAcked: Type.Integer({ minimum: 0 }),
        writesFailed: Type.Integer({ minimum: 0 }),
        rpoRows: Type.Integer({ minimum: 0, description: 'acknowledged rows of this profile lost' }),
        restoreOutageMs: Opt(Ms('longest time without an acknowledgement while the restore ran')),
        restoreWritesFailed: Opt(Type.Integer({ minimum: 0 })),
      }),
      { description: 'every client profile of the drill, in drill order' },
    ),
  ),
  timeline: Opt(
    Type.Array(
      Strict({
        mark: Type.String(),
        label: Type.String(),
        atMs: Ms('offset from the start of the run'),
        sinceFaultMs: Type.Number({ description: 'time since the fault (negative: before it)' }),
        profile: Opt(Type.String()),
        detail: Opt(Type.String()),
      }),
      { description: 'the recovery chain: fault → … → clients back, and the restore' },
    ),
  ),
  restoreOutage: Opt(Objective('ms, longest gap of the judged profile while the restore ran')),
  steadyState: Opt(Strict({ healthy: Type.Boolean(), problems: Type.Array(Type.String()) })),
  rto: Objective('ms, client-observed (or to the recovered data: see rtoBasis)'),
  rtoBasis: Opt(
    OneOf([...RTO_BASES], {
      description:
        'clients: first acknowledged write after the fault; recovery: the data restored and verified; ' +
        'outage: the longest client outage (a fault whose harm comes later, or a planned change without a fault)',
    }),
  ),
  rpo: Objective('acknowledged rows lost'),
  rpoBytes: Opt(Type.Number({ minimum: 0, description: 'WAL between the old primary and promotion' })),
  lostSeqs: Type.Array(Type.Integer()),
  splitBrainWrites: Type.Integer({ minimum: 0 }),
  patroni: Opt(PatroniFigures),
  promotedAtMs: Opt(Ms('when the promotion finished')),
  verdict: OneOf([...DRILL_VERDICTS, 'incomplete']),
  reasons: Type.Array(Type.String()),
  phases: Type.Array(
    Strict({
      phase: Type.String(),
      steps: Type.Array(Type.String()),
      durationMs: Ms('machine and human time of the phase'),
      waitMs: Ms('approval waits within the phase'),
      budgetMs: Opt(Ms('the phase’s budget')),
      met: Opt(Type.Boolean()),
    }),
  ),
  restore: Opt(
    Strict({
      status: OneOf(['succeeded', 'failed', 'skipped']),
      runId: Opt(Type.String()),
      manualSteps: Opt(Type.Array(Type.String())),
    }),
  ),
});

// Backups, restore tests and point-in-time recoveries: the figures of each finished step of kind
// backup, restore-test or pitr, from its step-finished event's outputs (a failed one has none: what
// is known comes from its input). `finishedAt` is the wall-clock time of that event.
const BackupStepFields = {
  stepId: Type.String(),
  status: OneOf(['succeeded', 'failed']),
  error: Opt(Type.String()),
  finishedAt: Type.String({ format: 'date-time', description: 'when the step finished (wall clock)' }),
  stepMs: Ms('the step’s wall time'),
  budgetMs: Opt(Ms('the step’s budget')),
  overBudget: Type.Boolean(),
  label: Opt(Type.String({ description: 'the backup made or restored' })),
};

/** Time to a usable instance against the runbook's RTO objective; a failed restore never met it. */
const RestoreFields = {
  timeToUsableMs: Opt(Ms('from the start of the restore to a usable instance')),
  rto: Opt(Objective('ms, time to a usable instance against the runbook’s RTO')),
};

export const ReportBackup = Strict({
  ...BackupStepFields,
  method: Opt(Type.String()),
  sizeBytes: Opt(Type.Number({ minimum: 0, description: 'bytes stored' })),
  durationMs: Opt(Ms('making, verifying and storing the backup')),
  makeMs: Opt(Ms('making it')),
  verifyMs: Opt(Ms('verifying it')),
  storeMs: Opt(Ms('storing it')),
  bytesPerSecond: Opt(Type.Number({ minimum: 0, description: 'throughput: sizeBytes / durationMs' })),
  verified: Type.Boolean(),
  location: Opt(Type.String()),
  removed: Type.Array(Type.String(), { description: 'backups retention removed after this one verified' }),
  startLsn: Opt(Type.String()),
  stopLsn: Opt(Type.String()),
});

export const ReportRestoreTest = Strict({
  ...BackupStepFields,
  ...RestoreFields,
  method: Opt(Type.String()),
  sizeBytes: Opt(Type.Number({ minimum: 0, description: 'bytes of the backup restored' })),
  backupAgeMs: Opt(Ms('age of the restored backup when the test ran')),
  fetchMs: Opt(Ms('download and checksums')),
  verifyMs: Opt(Ms('table checksums and index checks after it was usable')),
  totalMs: Opt(Ms('restore and checks together')),
  tablesChecked: Opt(Type.Integer({ minimum: 0 })),
  indexesChecked: Opt(Type.Union([Type.Integer({ minimum: 0 }), Type.Literal('unavailable')])),
});

export const ReportPitr = Strict({
  ...BackupStepFields,
  ...RestoreFields,
  target: Opt(Type.Record(Type.String(), Type.String(), { description: 'the recovery target setting' })),
  stoppedAt: Opt(Type.String({ description: 'where recovery stopped, as PostgreSQL logged it' })),
  recoveryMs: Opt(Ms('WAL replay until promotion')),
  checks: Type.Array(Strict({ query: Type.String(), value: Type.String() })),
});

export const ReportBackups = Strict({
  made: Type.Array(ReportBackup),
  restoreTests: Type.Array(ReportRestoreTest),
  pitr: Type.Array(ReportPitr),
});

export const Report = Strict(
  {
    reportVersion: Type.Literal(REPORT_VERSION),
    run: Strict({
      id: Type.String(),
      createdAt: Type.String({ format: 'date-time' }),
      finishedAt: Opt(Type.String({ format: 'date-time' })),
      status: OneOf([...RUN_STATUSES, 'incomplete']),
      operator: Type.String(),
      /** Everyone who started or resumed the run, in order. */
      operators: Type.Array(Type.String()),
      startedBy: Opt(Type.String({ description: 'what started the run when no person typed it (an alert)' })),
      resumes: Type.Integer({ minimum: 0 }),
      durationMs: Opt(Ms('the run’s duration (across resumes)')),
      failedStep: Opt(Type.String()),
      error: Opt(Type.String()),
    }),
    runbook: Strict({ name: Type.String(), path: Type.String(), sha256: Type.String() }),
    environment: Strict({ name: Type.String(), label: Type.String() }),
    inventory: Type.String(),
    inputs: Type.Record(Type.String(), Type.Unknown()),
    rto: Strict({
      objectiveMs: Opt(Ms('the runbook’s RTO objective')),
      actualMs: Opt(Ms('the run’s duration')),
      met: Opt(Type.Boolean()),
      exceededAtMs: Opt(Ms('when the RTO ran out during the run')),
    }),
    spanMs: Ms('from the first to the last event: the timeline’s length'),
    steps: Type.Array(ReportStep),
    rollback: Opt(
      Strict({ failedStep: Type.String(), error: Type.String(), startAtMs: Ms('when the rollback began') }),
    ),
    budgetMisses: Type.Array(
      Strict({ stepId: Type.String(), budgetMs: Ms('budget'), elapsedMs: Ms('time taken') }),
    ),
    approvals: Type.Array(ReportApproval),
    approvalWaitMs: Ms('all approval waits together, counted apart from machine time'),
    warnings: Type.Array(Type.String()),
    drill: Opt(ReportDrill),
    backups: Opt(ReportBackups),
    cloudEvents: Opt(
      Type.Array(ReportCloudEvent, {
        description: 'failover events the cloud API recorded (rds steps), in the order they happened',
      }),
    ),
  },
  { title: 'drillbook Report', $id: 'https://drillbook.dev/schemas/report.schema.json' },
);

export type Report = Static<typeof Report>;
export type ReportStep = Static<typeof ReportStep>;
export type ReportDrill = Static<typeof ReportDrill>;
export type ReportBackups = Static<typeof ReportBackups>;
export type ReportBackup = Static<typeof ReportBackup>;
export type ReportRestoreTest = Static<typeof ReportRestoreTest>;
export type ReportPitr = Static<typeof ReportPitr>;

/** The JSON text committed as schemas/report.schema.json (a test fails when it drifts). */
export const reportSchemaJson = () => JSON.stringify(Report, null, 2) + '\n';
