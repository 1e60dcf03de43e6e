// The backup-age check of `verify`: the newest VERIFIED backup is younger than a limit, so a
// runbook (a failover, say) can refuse to go on without a recent restorable backup.
import { readFile } from 'node:fs/promises';
import { formatDuration, parseDuration } from '../duration.js';
import { StepFailure, UserError, errorMessage } from '../errors.js';
import { newestVerified, readCatalog, type Catalog } from './catalog.js';
import type { StorageSpec } from './storage/spec.js';
import { openStorage } from './storage/storage.js';
import type { BackupContext } from './context.js';
import { backupTool, readRepository, repositoryOf, type BackupTool } from './pgbackrest.js';

export interface BackupAgeInput {
  maxAge?: string;
  tool?: BackupTool;
  catalog?: string;
  storage?: StorageSpec;
}

export async function checkBackupAge(ctx: BackupContext, input: BackupAgeInput) {
  const limitMs = parseDuration(input.maxAge ?? '');
  if (limitMs === undefined) throw new UserError(`step ${ctx.stepId}: a backup-age check needs maxAge`);
  const { newest, where } =
    backupTool(ctx.env, input.tool) === 'pgbackrest'
      ? await newestInRepository(ctx)
      : await newestInStore(ctx, input);
  if (!newest) throw new StepFailure(`no verified backup in ${where}`);
  const ageMs = Date.now() - Date.parse(newest.finishedAt);
  const summary = `newest verified backup ${newest.label} (${where}) is ${formatDuration(ageMs)} old, limit ${input.maxAge}`;
  ctx.log(summary);
  if (ageMs > limitMs) throw new StepFailure(summary);
  return { label: newest.label, ageMs, finishedAt: newest.finishedAt, method: newest.method };
}

async function newestInStore(ctx: BackupContext, input: BackupAgeInput) {
  const { catalog, where } = await loadCatalog(ctx, input);
  return { newest: newestVerified(catalog), where };
}

/** pgBackRest's catalog: the newest set it reports without errors (pgbackrest info). */
async function newestInRepository(ctx: BackupContext) {
  const repo = repositoryOf(ctx.env, ctx.stepId);
  const sets = await readRepository(repo, ctx.signal);
  const newest = sets.filter((b) => !b.error).at(-1);
  return {
    newest: newest && {
      label: newest.label,
      finishedAt: newest.finishedAt,
      method: `pgbackrest ${newest.type}`,
    },
    where: `pgBackRest stanza ${repo.stanza}`,
  };
}

async function loadCatalog(
  ctx: BackupContext,
  input: BackupAgeInput,
): Promise<{ catalog: Catalog; where: string }> {
  if (Boolean(input.catalog) === Boolean(input.storage)) {
    throw new UserError(
      `step ${ctx.stepId}: a backup-age check needs catalog (a path) or storage, one of them`,
    );
  }
  if (input.catalog) {
    try {
      return { catalog: JSON.parse(await readFile(input.catalog, 'utf8')) as Catalog, where: input.catalog };
    } catch (err) {
      throw new StepFailure(`cannot read the backup catalog ${input.catalog}: ${errorMessage(err)}`);
    }
  }
  const storage = await openStorage(ctx, input.storage!);
  try {
    return { catalog: await readCatalog(storage), where: storage.location };
  } finally {
    await storage.close();
  }
}
