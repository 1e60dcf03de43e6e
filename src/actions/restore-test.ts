// restore-test: the guide's monthly restore test, measured. The newest verified backup (or a named
// one) is restored into a scratch PostgreSQL on a free loopback port, its tables are compared with
// the checksums taken at backup time and its indexes checked with amcheck; the time from the start
// to a usable instance is the restore's RTO. The scratch instance is always torn down, and one
// left behind by a killed run is removed first. The result is recorded in the catalog. With the
// pgbackrest tool the backup set comes from the stanza's repository (`pgbackrest restore`), and the
// copy is checked with amcheck (pgBackRest records no table checksums).
import { Type } from '@sinclair/typebox';
import {
  chooseBackup,
  readCatalog,
  writeCatalog,
  type BackupEntry,
  type RestoreTestRecord,
} from '../backup/catalog.js';
import { fetchBackup, prepareBaseBackup, restoreDumps } from '../backup/restore.js';
import { createScratch, type Scratch } from '../backup/scratch.js';
import {
  backupTool,
  chooseRepoBackup,
  needStorage,
  readRepository,
  repositoryOf,
  restoreSet,
  toolField,
} from '../backup/pgbackrest.js';
import { scratchFields, startScratchStep, type ScratchStep } from '../backup/scratch-step.js';
import { StorageSpec, describeStorage } from '../backup/storage/spec.js';
import { openStorage, type Storage } from '../backup/storage/storage.js';
import { checkRestored } from '../backup/verify-restored.js';
import { waitWritable } from '../backup/restore.js';
import { formatDuration } from '../duration.js';
import { errorMessage } from '../errors.js';
import { OneOf, Strict, Text } from '../schema/common.js';
import { defineAction, type ActionContext } from './types.js';
import { Ms } from './contract.js';

const schema = Strict({
  tool: toolField,
  storage: Type.Optional(StorageSpec),
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
    method: OneOf(['basebackup', 'dump', 'pgbackrest']),
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
    if (backupTool(ctx.env, input.tool) === 'pgbackrest') return fromRepository(ctx, input);
    const spec = needStorage(input.storage, ctx.stepId);
    const step = await startScratchStep(ctx, input);
    const storage = await openStorage(ctx, spec);
    try {
      const entry = chooseBackup(await readCatalog(storage), storage.location, input.label);
      const at = new Date().toISOString();
      try {
        const result = await restoreAndCheck(ctx, input, step, entry, (scratch) =>
          restoreFromStore(ctx, step, storage, entry, scratch),
        );
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
    const what = input.label ?? 'the newest verified backup';
    if (backupTool(ctx.env, input.tool) === 'pgbackrest') {
      const repo = repositoryOf(ctx.env, ctx.stepId);
      return `would restore ${what} of pgBackRest stanza ${repo.stanza} into a scratch instance, verify it and remove it`;
    }
    return `would restore ${what} from ${describeStorage(needStorage(input.storage, ctx.stepId))} into a scratch instance, verify it and remove it`;
  },
});

type Input = (typeof schema)['static'];

/** What a restored backup is checked against, whoever made it. */
type Restorable = Parameters<typeof checkRestored>[2] & {
  method: 'basebackup' | 'dump' | 'pgbackrest';
  sizeBytes: number;
  finishedAt: string;
};

/**
 * Restores into a fresh scratch instance (`restore` brings it to usable and returns how long the
 * download took), measures, verifies, and always removes the instance.
 */
async function restoreAndCheck(
  ctx: ActionContext,
  input: Input,
  { tools, root }: ScratchStep,
  entry: Restorable,
  restore: (scratch: Scratch) => Promise<number>,
) {
  const scratch = await createScratch(tools, root, ctx.signal);
  const t0 = performance.now();
  const since = () => Math.round(performance.now() - t0);
  try {
    ctx.log(
      `restoring ${entry.label} (${entry.method}, ${entry.sizeBytes} bytes) into ${scratch.host}:${scratch.port}`,
    );
    const fetchMs = await restore(scratch);
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

async function restoreFromStore(
  ctx: ActionContext,
  { tools, startTimeoutMs }: ScratchStep,
  storage: Storage,
  entry: BackupEntry,
  scratch: Scratch,
): Promise<number> {
  const t0 = performance.now();
  await fetchBackup(storage, entry, scratch);
  const fetchMs = Math.round(performance.now() - t0);
  if (entry.method === 'basebackup') {
    await prepareBaseBackup(tools, entry, scratch, ctx.signal);
    scratch.configure({});
    await scratch.start(Math.ceil(startTimeoutMs / 1000));
    await waitWritable(ctx, scratch, startTimeoutMs);
  } else {
    await restoreDumps(ctx, tools, entry, scratch, Math.ceil(startTimeoutMs / 1000));
  }
  return fetchMs;
}

/** A pgBackRest set, restored to its consistency point (`--type=immediate`) and promoted there. */
async function fromRepository(ctx: ActionContext, input: Input) {
  const repo = repositoryOf(ctx.env, ctx.stepId);
  const set = chooseRepoBackup(await readRepository(repo, ctx.signal), repo, input.label);
  const step = await startScratchStep(ctx, input);
  const entry: Restorable = {
    label: set.label,
    method: 'pgbackrest',
    sizeBytes: set.sizeBytes,
    finishedAt: set.finishedAt,
    tables: [],
    source: { databases: [ctx.env.postgres.database] },
  };
  return restoreAndCheck(ctx, input, step, entry, async (scratch) => {
    const t0 = performance.now();
    await restoreSet(repo, set, scratch.data, ['--type=immediate'], ctx.signal);
    const fetchMs = Math.round(performance.now() - t0);
    scratch.configure({});
    await scratch.start(Math.ceil(step.startTimeoutMs / 1000));
    await waitWritable(ctx, scratch, step.startTimeoutMs);
    return fetchMs;
  });
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
