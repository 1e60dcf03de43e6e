// restore-test: the guide's monthly restore test, measured. The newest verified backup (or a named
// one) is restored into a scratch PostgreSQL on a free loopback port, its tables are compared with
// the checksums taken at backup time and its indexes checked with amcheck; the time from the start
// to a usable instance is the restore's RTO. The scratch instance is always torn down, and one
// left behind by a killed run is removed first. The result is recorded in the catalog.
import { Type } from '@sinclair/typebox';
import {
  chooseBackup,
  readCatalog,
  writeCatalog,
  type BackupEntry,
  type RestoreTestRecord,
} from '../backup/catalog.js';
import { fetchBackup, prepareBaseBackup, restoreDumps } from '../backup/restore.js';
import { createScratch } from '../backup/scratch.js';
import { scratchFields, startScratchStep, type ScratchStep } from '../backup/scratch-step.js';
import { StorageSpec, checkStorageSpec, describeStorage } from '../backup/storage/spec.js';
import { openStorage, type Storage } from '../backup/storage/storage.js';
import { checkRestored } from '../backup/verify-restored.js';
import { waitWritable } from '../backup/restore.js';
import { formatDuration } from '../duration.js';
import { errorMessage } from '../errors.js';
import { OneOf, Strict, Text } from '../schema/common.js';
import { defineAction, type ActionContext } from './types.js';
import { Ms } from './contract.js';

const schema = Strict({
  storage: StorageSpec,
  label: Type.Optional(Text('the backup to restore (default: the newest verified one)')),
  amcheck: Type.Optional(
    Type.Boolean({ default: true, description: 'check B-tree indexes with amcheck where installed' }),
  ),
  ...scratchFields,
});

export const restoreTest = defineAction({
  kind: 'restore-test',
  summary:
    'restore a backup into a scratch instance, verify it against the backup-time checksums, measure, tear down',
  schema,
  outputs: Strict({
    label: Type.String(),
    method: OneOf(['basebackup', 'dump']),
    sizeBytes: Type.Integer({ minimum: 0 }),
    backupAgeMs: Ms(),
    fetchMs: Ms(),
    timeToUsableMs: Ms('until the restored copy accepts connections'),
    verifyMs: Ms(),
    totalMs: Ms(),
    port: Type.Integer(),
    tablesChecked: Type.Integer({ minimum: 0 }),
    indexesChecked: Type.Union([Type.Integer({ minimum: 0 }), Type.Literal('unavailable')]),
  }),
  example: { id: 'prove-restore', with: { storage: { type: 'local', path: '/var/backups/pg' } } },
  async run(ctx, input) {
    checkStorageSpec(input.storage, ctx.stepId);
    const step = await startScratchStep(ctx, input);
    const storage = await openStorage(ctx, input.storage);
    try {
      const entry = chooseBackup(await readCatalog(storage), storage.location, input.label);
      const at = new Date().toISOString();
      try {
        const result = await restoreAndCheck(ctx, input, step, storage, entry);
        await record(ctx, storage, entry.label, { at, ok: true, timeToUsableMs: result.timeToUsableMs });
        return result;
      } catch (err) {
        await record(ctx, storage, entry.label, { at, ok: false, error: errorMessage(err).split('\n')[0] });
        throw err;
      }
    } finally {
      await storage.close();
    }
  },
  async dryRun(ctx, input) {
    checkStorageSpec(input.storage, ctx.stepId);
    return `would restore ${input.label ?? 'the newest verified backup'} from ${describeStorage(input.storage)} into a scratch instance, verify it and remove it`;
  },
});

type Input = (typeof schema)['static'];

async function restoreAndCheck(
  ctx: ActionContext,
  input: Input,
  { tools, root, startTimeoutMs }: ScratchStep,
  storage: Storage,
  entry: BackupEntry,
) {
  const scratch = await createScratch(tools, root, ctx.signal);
  const t0 = performance.now();
  const since = () => Math.round(performance.now() - t0);
  try {
    ctx.log(
      `restoring ${entry.label} (${entry.method}, ${entry.sizeBytes} bytes) into ${scratch.host}:${scratch.port}`,
    );
    await fetchBackup(storage, entry, scratch);
    const fetchMs = since();
    if (entry.method === 'basebackup') {
      await prepareBaseBackup(tools, entry, scratch, ctx.signal);
      scratch.configure({});
      await scratch.start(Math.ceil(startTimeoutMs / 1000));
      await waitWritable(ctx, scratch, startTimeoutMs);
    } else {
      await restoreDumps(ctx, tools, entry, scratch, Math.ceil(startTimeoutMs / 1000));
    }
    const timeToUsableMs = since();
    ctx.log(
      `${entry.label}: usable after ${formatDuration(timeToUsableMs)} (download and checksums ${formatDuration(fetchMs)})`,
    );
    const checks = await checkRestored(ctx, scratch, entry, input.amcheck ?? true);
    return {
      label: entry.label,
      method: entry.method,
      sizeBytes: entry.sizeBytes,
      backupAgeMs: Date.now() - Date.parse(entry.finishedAt),
      fetchMs,
      timeToUsableMs,
      verifyMs: since() - timeToUsableMs,
      totalMs: since(),
      port: scratch.port,
      ...checks,
    };
  } finally {
    await scratch.destroy();
  }
}

/** Appends the outcome to the backup's catalog entry; a store that refuses it is logged, not fatal. */
async function record(ctx: ActionContext, storage: Storage, label: string, outcome: RestoreTestRecord) {
  try {
    const catalog = await readCatalog(storage);
    const entry = catalog.backups.find((b) => b.label === label);
    if (!entry) return;
    (entry.restoreTests ??= []).push(outcome);
    await writeCatalog(storage, catalog);
  } catch (err) {
    ctx.log(`could not record the restore test in the catalog: ${errorMessage(err)}`);
  }
}
