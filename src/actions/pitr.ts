// pitr: point-in-time recovery, proven. A base backup from the store is restored into a scratch
// instance, the WAL archive is replayed up to a target (time, LSN, transaction id or a restore point
// made with pg_create_restore_point) and the instance promotes there; then the step's checks show
// that the data up to the target is there and what came after is not. With `copyBack` the rows of a
// table are copied from the recovered instance into the live database (the accidental-DELETE fix).
// The instance is torn down. With the pgbackrest tool the backup set and the WAL come from the
// stanza's repository (`pgbackrest restore --type=time|lsn|xid|name`). A target before the backup's
// consistency point is refused before anything starts.
import { existsSync } from 'node:fs';
import { Type } from '@sinclair/typebox';
import { byNewest, chooseBackup, readCatalog } from '../backup/catalog.js';
import {
  backupTool,
  chooseRepoBackup,
  needStorage,
  readRepository,
  repositoryOf,
  restoreSet,
  toolField,
  type BackupTool,
} from '../backup/pgbackrest.js';
import type { PgTools } from '../backup/tools.js';
import { copyBack } from '../backup/copy-back.js';
import { switchAndWaitArchived } from '../backup/switch-wal.js';
import {
  backupForTarget,
  configureRecovery,
  missingSegment,
  stopPoint,
  targetSetting,
} from '../backup/recovery.js';
import { fetchBackup, prepareBaseBackup, restoreEndpoint, waitWritable } from '../backup/restore.js';
import { createScratch, type Scratch } from '../backup/scratch.js';
import { scratchFields, startScratchStep } from '../backup/scratch-step.js';
import { StorageSpec, describeStorage } from '../backup/storage/spec.js';
import { openStorage } from '../backup/storage/storage.js';
import { connectPostgres, withNode } from '../connectors/postgres.js';
import { formatDuration } from '../duration.js';
import { StepFailure, UserError, errorMessage } from '../errors.js';
import { resolveNode } from '../schema/inventory.js';
import { SqlParams, SqlText, Strict, Target, Text } from '../schema/common.js';
import { defineAction, type ActionContext } from './types.js';
import { sameValue } from './verify.js';
import { Ms } from './contract.js';

const schema = Strict({
  tool: toolField,
  storage: Type.Optional(StorageSpec),
  archive: Type.Optional(
    Text('directory of the archived WAL, readable here (native; the lab: <lab>/archive)'),
  ),
  target: Strict(
    {
      time: Type.Optional(Text('recovery_target_time, e.g. 2024-01-15 14:30:00+00')),
      lsn: Type.Optional(Text('recovery_target_lsn, e.g. 0/3000060')),
      xid: Type.Optional(Text('recovery_target_xid')),
      name: Type.Optional(Text('a restore point made with pg_create_restore_point')),
    },
    { description: 'exactly one of time, lsn, xid, name' },
  ),
  inclusive: Type.Optional(
    Type.Boolean({ default: true, description: 'stop just after the target (default) or just before it' }),
  ),
  label: Type.Optional(Text('the base backup to start from (default: the newest verified one)')),
  switchWal: Type.Optional(
    Target(
      'node',
      'first switch WAL on this node and wait until the segment is archived, so the newest changes can be recovered',
    ),
  ),
  expect: Type.Optional(
    Type.Array(
      Strict({
        query: SqlText('SQL run on the recovered instance; the first column of the first row is compared'),
        params: SqlParams,
        equals: Type.Union([Type.String(), Type.Number(), Type.Boolean()]),
        database: Type.Optional(Text('default: the inventory database')),
      }),
      {
        description: 'what the recovered data must show: rows before the target there, rows after it absent',
      },
    ),
  ),
  copyBack: Type.Optional(
    Strict(
      {
        table: Text('the table whose rows come back'),
        where: Type.Optional(SqlText('SQL condition choosing the rows (default: all)')),
        params: SqlParams,
        into: Type.Optional(Target('node', 'the live node that gets them (default: primary)')),
      },
      {
        description:
          'after the checks, copy the rows from the recovered instance into the live database; rows whose key is there are left alone',
      },
    ),
  ),
  ...scratchFields,
});

/** How long the archiver may take to archive the switched segment. */
const ARCHIVE_WAIT_MS = 120_000;

type PitrInput = (typeof schema)['static'];

export const pitr = defineAction({
  kind: 'pitr',
  summary:
    'recover a base backup plus the WAL archive to a point in time in a scratch instance and check the data there',
  sqlFields: ['expect.*.query', 'copyBack.where'],
  schema,
  outputs: Strict({
    label: Type.String({ description: 'the base backup recovery started from' }),
    target: Type.Record(Type.String(), Type.String(), { description: 'the recovery_target_* setting used' }),
    stoppedAt: Type.Optional(Type.String()),
    timeToUsableMs: Ms(),
    recoveryMs: Ms(),
    checks: Type.Array(Strict({ query: Type.String(), value: Type.String() })),
    copiedBack: Type.Optional(
      Strict({ table: Type.String(), read: Type.Integer(), inserted: Type.Integer(), into: Type.String() }),
    ),
  }),
  example: {
    id: 'undo-delete',
    with: {
      storage: { type: 'local', path: '/var/backups/pg' },
      archive: '/var/lib/postgresql/archive',
      target: { time: '${{ inputs.before }}' },
      expect: [{ query: 'SELECT count(*) FROM orders', equals: 1000 }],
    },
  },
  async run(ctx, input) {
    const tool = checkInput(ctx, input);
    const { tools, root, startTimeoutMs: timeoutMs } = await startScratchStep(ctx, input);
    // pgBackRest's sets are read (and a target before them refused) before anything starts; the
    // native store keeps its order: the WAL switch first, then the catalog.
    const early = tool === 'pgbackrest' ? await fromRepository(ctx, input) : undefined;
    let source: RecoverySource | undefined;
    let scratch: Scratch | undefined;
    try {
      if (input.switchWal) {
        const node = resolveNode(ctx.env, input.switchWal);
        const archive = early ? undefined : input.archive;
        const segment = await withNode(ctx.env, node, { secret: ctx.secret, signal: ctx.signal }, (c) =>
          switchAndWaitArchived(c, archive, node, ARCHIVE_WAIT_MS, ctx.signal),
        );
        ctx.log(`switched WAL on ${node}: ${segment} is archived`);
      }
      source = early ?? (await fromStore(ctx, input, tools));
      scratch = await createScratch(tools, root, ctx.signal);
      const t0 = performance.now();
      await source.restore(scratch);
      const [setting, value] = targetSetting(input.target)!;
      ctx.log(
        `replaying ${source.archive ?? `the WAL of pgBackRest stanza ${source.where}`} onto ${source.label} (stop LSN ${source.stopLsn}) up to ${setting} = ${value}`,
      );
      const recoveryStart = performance.now();
      try {
        await scratch.start(Math.ceil(timeoutMs / 1000));
        await waitWritable(ctx, scratch, timeoutMs);
      } catch (err) {
        throw explainRecoveryFailure(err, scratch, source.archive ?? `of stanza ${source.where}`);
      }
      const timeToUsableMs = Math.round(performance.now() - t0);
      const recoveryMs = Math.round(performance.now() - recoveryStart);
      const stoppedAt = stopPoint(scratch.readLog());
      ctx.log(
        `promoted after ${formatDuration(recoveryMs)} of recovery: ${stoppedAt ?? 'end of the archive'}`,
      );
      const checks = await runChecks(ctx, scratch, input);
      const copied = input.copyBack ? await copyRowsBack(ctx, scratch, input.copyBack) : undefined;
      return {
        label: source.label,
        target: { [setting]: value },
        stoppedAt,
        timeToUsableMs,
        recoveryMs,
        checks,
        ...(copied && { copiedBack: copied }),
      };
    } finally {
      await scratch?.destroy();
      await source?.close();
    }
  },
  async dryRun(ctx, input) {
    const tool = checkInput(ctx, input);
    const [setting, value] = targetSetting(input.target)!;
    const copy = input.copyBack
      ? `, copy ${input.copyBack.table} back into ${resolveNode(ctx.env, input.copyBack.into ?? 'primary')}`
      : '';
    const from =
      tool === 'pgbackrest'
        ? `pgBackRest stanza ${repositoryOf(ctx.env, ctx.stepId).stanza}, replay its WAL`
        : `${describeStorage(input.storage!)}, replay ${input.archive}`;
    return `would restore ${input.label ?? 'the newest verified base backup'} from ${from} to ${setting} = ${value}, run ${input.expect?.length ?? 0} checks${copy} and remove the instance`;
  },
});

/** The chosen backup and how it becomes a data directory set up to recover to the target. */
interface RecoverySource {
  label: string;
  stopLsn: string;
  /** The WAL archive directory (native); undefined for a pgBackRest repository. */
  archive?: string;
  /** The store's location or the stanza, for messages. */
  where: string;
  restore(scratch: Scratch): Promise<void>;
  close(): Promise<void>;
}

async function fromStore(ctx: ActionContext, input: PitrInput, tools: PgTools): Promise<RecoverySource> {
  const storage = await openStorage(ctx, input.storage!);
  try {
    const catalog = await readCatalog(storage);
    const bases = catalog.backups.filter((b) => b.verified && b.method === 'basebackup').sort(byNewest);
    const entry =
      backupForTarget(bases, input.target, input.label, ctx.stepId) ??
      chooseBackup(catalog, storage.location, input.label, 'basebackup');
    const archive = input.archive!;
    return {
      label: entry.label,
      stopLsn: entry.stopLsn,
      archive,
      where: storage.location,
      async restore(scratch) {
        await fetchBackup(storage, entry, scratch);
        await prepareBaseBackup(tools, entry, scratch, ctx.signal);
        configureRecovery(scratch, archive, input.target, input.inclusive ?? true);
      },
      close: () => storage.close(),
    };
  } catch (err) {
    await storage.close();
    throw err;
  }
}

async function fromRepository(ctx: ActionContext, input: PitrInput): Promise<RecoverySource> {
  const repo = repositoryOf(ctx.env, ctx.stepId);
  const sets = await readRepository(repo, ctx.signal);
  const usable = sets.filter((b) => !b.error).reverse();
  const set =
    backupForTarget(usable, input.target, input.label, ctx.stepId) ??
    chooseRepoBackup(sets, repo, input.label);
  const [setting, value] = targetSetting(input.target)!;
  const recovery = [
    `--type=${setting.replace('recovery_target_', '')}`,
    `--target=${value}`,
    '--target-timeline=latest',
    ...(input.inclusive === false ? ['--target-exclusive'] : []),
  ];
  return {
    label: set.label,
    stopLsn: set.stopLsn,
    where: repo.stanza,
    async restore(scratch) {
      await restoreSet(repo, set, scratch.data, recovery, ctx.signal);
      scratch.configure({});
    },
    close: () => Promise.resolve(),
  };
}

/** Bad input, found before anything connects; returns the backup tool. */
function checkInput(ctx: ActionContext, input: PitrInput): BackupTool {
  if (!targetSetting(input.target)) {
    throw new UserError(`step ${ctx.stepId}: target needs exactly one of time, lsn, xid, name`);
  }
  const tool = backupTool(ctx.env, input.tool);
  if (tool === 'pgbackrest') return tool;
  needStorage(input.storage, ctx.stepId);
  if (!input.archive)
    throw new UserError(`step ${ctx.stepId}: archive is needed when the backup tool is native`);
  if (!existsSync(input.archive))
    throw new UserError(`step ${ctx.stepId}: WAL archive ${input.archive} does not exist`);
  return tool;
}

/** A recovery that stopped short names the missing segment; other failures keep their log lines. */
function explainRecoveryFailure(err: unknown, scratch: Scratch, archive: string): StepFailure {
  const segment = missingSegment(scratch.readLog());
  if (segment) {
    return new StepFailure(
      `recovery ended before reaching the target: WAL segment ${segment} is not in the archive ${archive}`,
      { retryable: false, cause: err },
    );
  }
  return err instanceof StepFailure
    ? err
    : new StepFailure(errorMessage(err), { retryable: false, cause: err });
}

async function runChecks(ctx: ActionContext, scratch: Scratch, input: PitrInput) {
  const results = [];
  for (const check of input.expect ?? []) {
    const database = check.database ?? ctx.env.postgres.database;
    const client = await connectPostgres(restoreEndpoint(ctx, scratch, database), {
      secret: ctx.secret,
      signal: ctx.signal,
    });
    try {
      const r = await client.query<unknown[]>({
        text: check.query,
        values: check.params ?? [],
        rowMode: 'array',
      });
      const value = String(r.rows[0]?.[0] ?? '');
      if (!sameValue(value, check.equals)) {
        throw new StepFailure(
          `after recovery, ${check.query} gave ${value}, expected ${JSON.stringify(check.equals)}`,
        );
      }
      results.push({ query: check.query, value });
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  return results;
}

async function copyRowsBack(
  ctx: ActionContext,
  scratch: Scratch,
  request: NonNullable<PitrInput['copyBack']>,
) {
  const into = resolveNode(ctx.env, request.into ?? 'primary');
  const from = await connectPostgres(restoreEndpoint(ctx, scratch, ctx.env.postgres.database), {
    secret: ctx.secret,
    signal: ctx.signal,
  });
  try {
    const result = await withNode(ctx.env, into, { secret: ctx.secret, signal: ctx.signal }, (live) =>
      copyBack(from, live, request, into),
    );
    ctx.log(
      `copied ${result.inserted} missing row(s) of ${result.read} back into ${result.table} on ${into}`,
    );
    return { ...result, into };
  } finally {
    await from.end().catch(() => undefined);
  }
}
