// Turning a catalogued backup into a running scratch instance: download, check every file's SHA-256
// against the catalog, then either extract and pg_verifybackup a base backup, or initdb a fresh
// instance and pg_restore the dumps into it.
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { connectPostgres, type PgEndpoint } from '../connectors/postgres.js';
import { pollUntil } from '../connectors/poll.js';
import { StepFailure } from '../errors.js';
import { run } from '../system/exec.js';
import type { BackupEntry } from './catalog.js';
import { checkFiles, extractBaseBackup, verifyBaseBackup } from './integrity.js';
import type { Scratch } from './scratch.js';
import { checkFileName, checkLabel, inside } from './store-names.js';
import type { Storage } from './storage/storage.js';
import type { PgTools } from './tools.js';
import type { BackupContext } from './context.js';

type Ctx = Pick<BackupContext, 'env' | 'signal' | 'secret'>;

export interface Timings {
  fetchMs: number;
  verifyMs: number;
  startMs: number;
}

/** Downloads every file of the backup into the scratch instance and checks it against the catalog. */
export async function fetchBackup(storage: Storage, entry: BackupEntry, scratch: Scratch): Promise<void> {
  const where = `backup ${entry.label} in ${storage.location}`;
  // Names were checked when the catalog was read; the paths are checked again where they are written.
  for (const f of entry.files) {
    const local = inside(scratch.files, checkFileName(f.name, where), where);
    await storage.get(`${checkLabel(entry.label, where)}/${f.name}`, local);
  }
  await checkFiles(scratch.files, entry.files, entry.label);
}

/** Extracts a fetched base backup into the data directory, verifies it and hands it to the service user. */
export async function prepareBaseBackup(
  tools: PgTools,
  entry: BackupEntry,
  scratch: Scratch,
  signal: AbortSignal,
) {
  await extractBaseBackup(scratch.files, scratch.data, signal);
  try {
    await verifyBaseBackup(tools, scratch.files, scratch.data, signal);
  } catch (err) {
    throw new StepFailure(`backup ${entry.label} does not match its manifest: ${(err as Error).message}`);
  }
  // A backup of a standby, or one taken with -R, would start as a standby again.
  for (const signalFile of ['standby.signal', 'recovery.signal'])
    rmSync(join(scratch.data, signalFile), { force: true });
  await scratch.own();
}

/** A fresh instance whose superuser is the inventory user, then pg_restore of each dump into it. */
export async function restoreDumps(
  ctx: Ctx,
  tools: PgTools,
  entry: BackupEntry,
  scratch: Scratch,
  timeoutS: number,
) {
  const pg = ctx.env.postgres;
  const password = pg.password ? await ctx.secret(pg.password) : '';
  const pwfile = join(scratch.dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  try {
    if (scratch.user.uid !== process.getuid?.()) await run('chown', [`${scratch.user.uid}`, pwfile]);
    await tools.run(
      'initdb',
      [
        '-D',
        scratch.data,
        '-U',
        pg.user,
        `--pwfile=${pwfile}`,
        '--auth-local=peer',
        '--auth-host=md5',
        '--no-locale',
        '-E',
        'UTF8',
        '--no-sync',
      ],
      { as: scratch.user, what: 'initdb of the scratch instance' },
    );
  } finally {
    rmSync(pwfile, { force: true });
  }
  scratch.configure({});
  await scratch.start(timeoutS);
  for (const f of entry.files.filter((x) => x.name.endsWith('.dump'))) {
    await tools.run(
      'pg_restore',
      [
        '--create',
        '--no-owner',
        '--no-privileges',
        '--exit-on-error',
        '-d',
        `host=${scratch.host} port=${scratch.port} user=${pg.user} dbname=postgres`,
        join(scratch.files, f.name),
      ],
      { env: { PGPASSWORD: password }, what: `pg_restore of ${f.name}` },
    );
  }
}

/** The scratch instance as a connection endpoint, with the inventory's credentials. */
export const restoreEndpoint = (ctx: Ctx, scratch: Scratch, database: string): PgEndpoint => ({
  host: scratch.host,
  port: scratch.port,
  database,
  user: ctx.env.postgres.user,
  password: ctx.env.postgres.password,
});

/**
 * Waits until the instance accepts writes (out of recovery). A postmaster that exits meanwhile (a
 * recovery that cannot go on) fails at once, with the end of its log.
 */
export async function waitWritable(ctx: Ctx, scratch: Scratch, timeoutMs: number): Promise<void> {
  const endpoint = restoreEndpoint(ctx, scratch, ctx.env.postgres.database);
  const ready = await pollUntil(
    async () => {
      if (!scratch.pid()) {
        throw new StepFailure(`the scratch instance stopped during recovery:\n${scratch.logTail()}`);
      }
      try {
        const client = await connectPostgres(endpoint, {
          secret: ctx.secret,
          signal: ctx.signal,
          connectTimeoutMs: 2000,
        });
        try {
          const r = await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
          return r.rows[0]!.r ? undefined : true;
        } finally {
          await client.end().catch(() => undefined);
        }
      } catch (err) {
        if (err instanceof StepFailure && err.retryable) return undefined;
        throw err;
      }
    },
    { timeoutMs, intervalMs: 20, signal: ctx.signal },
  );
  if (!ready)
    throw new StepFailure(
      `the scratch instance did not accept writes within ${timeoutMs} ms:\n${scratch.logTail()}`,
    );
}
