// pitr: point-in-time recovery, proven. A base backup from the store is restored into a scratch
// instance, the WAL archive is replayed up to a target (time, LSN, transaction id or a restore point
// made with pg_create_restore_point) and the instance promotes there; then the step's checks show
// that the data up to the target is there and what came after is not. The instance is torn down.
import { existsSync } from 'node:fs';
import { Type } from '@sinclair/typebox';
import { chooseBackup, readCatalog } from '../backup/catalog.js';
import { configureRecovery, missingSegment, stopPoint, targetSetting } from '../backup/recovery.js';
import { fetchBackup, prepareBaseBackup, restoreEndpoint, waitWritable } from '../backup/restore.js';
import { createScratch, type Scratch } from '../backup/scratch.js';
import { scratchFields, startScratchStep } from '../backup/scratch-step.js';
import { StorageSpec, checkStorageSpec, describeStorage } from '../backup/storage/spec.js';
import { openStorage } from '../backup/storage/storage.js';
import { connectPostgres } from '../connectors/postgres.js';
import { formatDuration } from '../duration.js';
import { StepFailure, UserError, errorMessage } from '../errors.js';
import { Strict, Text } from '../schema/common.js';
import { defineAction, type ActionContext } from './types.js';
import { sameValue } from './verify.js';

const schema = Strict({
  storage: StorageSpec,
  archive: Text('directory of the archived WAL (readable here; the lab: <lab>/archive)'),
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
  expect: Type.Optional(
    Type.Array(
      Strict({
        query: Text('SQL run on the recovered instance; the first column of the first row is compared'),
        equals: Type.Union([Type.String(), Type.Number(), Type.Boolean()]),
        database: Type.Optional(Text('default: the inventory database')),
      }),
      {
        description: 'what the recovered data must show: rows before the target there, rows after it absent',
      },
    ),
  ),
  ...scratchFields,
});

type PitrInput = (typeof schema)['static'];

export const pitr = defineAction({
  kind: 'pitr',
  summary:
    'recover a base backup plus the WAL archive to a point in time in a scratch instance and check the data there',
  schema,
  async run(ctx, input) {
    checkInput(ctx, input);
    const { tools, root, startTimeoutMs: timeoutMs } = await startScratchStep(ctx, input);
    const storage = await openStorage(ctx, input.storage);
    let scratch: Scratch | undefined;
    try {
      const entry = chooseBackup(await readCatalog(storage), storage.location, input.label, 'basebackup');
      scratch = await createScratch(tools, root, ctx.signal);
      const t0 = performance.now();
      await fetchBackup(storage, entry, scratch);
      await prepareBaseBackup(tools, entry, scratch, ctx.signal);
      configureRecovery(scratch, input.archive, input.target, input.inclusive ?? true);
      const [setting, value] = targetSetting(input.target)!;
      ctx.log(
        `replaying ${input.archive} onto ${entry.label} (stop LSN ${entry.stopLsn}) up to ${setting} = ${value}`,
      );
      const recoveryStart = performance.now();
      try {
        await scratch.start(Math.ceil(timeoutMs / 1000));
        await waitWritable(ctx, scratch, timeoutMs);
      } catch (err) {
        throw explainRecoveryFailure(err, scratch, input.archive);
      }
      const timeToUsableMs = Math.round(performance.now() - t0);
      const recoveryMs = Math.round(performance.now() - recoveryStart);
      const stoppedAt = stopPoint(scratch.readLog());
      ctx.log(
        `promoted after ${formatDuration(recoveryMs)} of recovery: ${stoppedAt ?? 'end of the archive'}`,
      );
      const checks = await runChecks(ctx, scratch, input);
      return {
        label: entry.label,
        target: { [setting]: value },
        stoppedAt,
        timeToUsableMs,
        recoveryMs,
        checks,
      };
    } finally {
      await scratch?.destroy();
      await storage.close();
    }
  },
  async dryRun(ctx, input) {
    checkInput(ctx, input);
    const [setting, value] = targetSetting(input.target)!;
    return `would restore ${input.label ?? 'the newest verified base backup'} from ${describeStorage(input.storage)}, replay ${input.archive} to ${setting} = ${value}, run ${input.expect?.length ?? 0} checks and remove the instance`;
  },
});

function checkInput(ctx: ActionContext, input: PitrInput): void {
  checkStorageSpec(input.storage, ctx.stepId);
  if (!targetSetting(input.target)) {
    throw new UserError(`step ${ctx.stepId}: target needs exactly one of time, lsn, xid, name`);
  }
  if (!existsSync(input.archive))
    throw new UserError(`step ${ctx.stepId}: WAL archive ${input.archive} does not exist`);
}

/** A recovery that stopped short names the missing segment; other failures keep their log lines. */
function explainRecoveryFailure(err: unknown, scratch: Scratch, archive: string): StepFailure {
  const segment = missingSegment(scratch.readLog());
  if (segment) {
    return new StepFailure(
      `recovery ended before reaching the target: WAL segment ${segment} is not in the archive ${archive}`,
      undefined,
      false,
      { cause: err },
    );
  }
  return err instanceof StepFailure
    ? err
    : new StepFailure(errorMessage(err), undefined, false, { cause: err });
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
      const r = await client.query<unknown[]>({ text: check.query, rowMode: 'array' });
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
