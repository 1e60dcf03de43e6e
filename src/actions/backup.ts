// backup: a base backup (pg_basebackup, tar + gzip, WAL included, checked by pg_verifybackup) or a
// logical one (pg_dump -Fc per database), made here or on the database host over SSH, stored in a
// local directory, a directory on an SSH host or S3, with an entry in the store's catalog.json.
// Retention runs only after the new backup verified and its catalog entry was written. With the
// pgbackrest tool, `pgbackrest backup` of the inventory's stanza makes it (full, diff or incr) and
// the repository is the catalog; retention is the stanza's own (repo1-retention-*).
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { readCatalog, newLabel, writeCatalog, type BackupEntry } from '../backup/catalog.js';
import { digestOfFiles } from '../backup/files.js';
import { extractWhileWritten, packRest, PLAIN_BASE_TAR } from '../backup/follow.js';
import { BASE_TAR, verifyBaseBackup, verifyDumps } from '../backup/integrity.js';
import { produceBaseBackup, produceDumps, type SourceNode, type WalRange } from '../backup/produce.js';
import { retentionVictims } from '../backup/retention.js';
import { StorageSpec, describeStorage } from '../backup/storage/spec.js';
import { backupTool, needStorage, toolField } from '../backup/pgbackrest.js';
import { BackupType, backupToRepository, describeRepositoryBackup } from '../backup/pgbackrest-backup.js';
import { openStorage } from '../backup/storage/storage.js';
import { storeFiles } from '../backup/store-files.js';
import { tableSums } from '../backup/table-sums.js';
import { pgTools } from '../backup/tools.js';
import { connectNode } from '../connectors/postgres.js';
import { parseDuration } from '../duration.js';
import { UserError } from '../errors.js';
import { resolveNode } from '../schema/inventory.js';
import { Duration, OneOf, Strict, Target, Text } from '../schema/common.js';
import { defineAction, type ActionContext } from './types.js';
import { Ms } from './contract.js';

const schema = Strict({
  tool: toolField,
  type: Type.Optional(BackupType),
  method: Type.Optional(
    OneOf(['basebackup', 'dump'], { default: 'basebackup', description: 'pg_basebackup or pg_dump -Fc' }),
  ),
  source: Type.Optional(Target('node', 'the node to back up (default: primary)')),
  on: Type.Optional(
    Type.String({
      pattern: '^(local|ssh:[A-Za-z0-9_.-]+)$',
      description: 'where pg_basebackup / pg_dump run: local (default) or ssh:<host> (the database host)',
    }),
  ),
  storage: Type.Optional(StorageSpec),
  wal: Type.Optional(
    OneOf(['stream', 'fetch'], { default: 'stream', description: 'how a base backup includes its WAL' }),
  ),
  databases: Type.Optional(
    Type.Array(Type.String(), {
      minItems: 1,
      description: 'databases to dump (default: the inventory database)',
    }),
  ),
  tables: Type.Optional(
    Type.Array(Type.String(), {
      description:
        'tables of the inventory database whose row counts and checksums are recorded, for restore tests to compare',
    }),
  ),
  keep: Type.Optional(Type.Integer({ minimum: 1, description: 'verified backups to keep (retention)' })),
  maxAge: Type.Optional(Duration('remove backups older than this (retention)')),
  binDir: Type.Optional(Text('PostgreSQL programs (default: found like the lab finds them)')),
  workDir: Type.Optional(Text('local directory for the staging copy (default: the system temp directory)')),
});

type BackupInput = (typeof schema)['static'];

export const backup = defineAction({
  kind: 'backup',
  summary:
    'back up a node (pg_basebackup or pg_dump) into a local, SSH or S3 store with a verified catalog entry',
  schema,
  outputs: Strict({
    label: Type.String(),
    method: OneOf(['basebackup', 'dump', 'pgbackrest']),
    type: Type.Optional(BackupType),
    sizeBytes: Type.Integer({ minimum: 0 }),
    durationMs: Ms(),
    makeMs: Ms('pg_basebackup / pg_dump'),
    verifyMs: Ms(),
    storeMs: Ms(),
    startLsn: Type.Optional(Type.String()),
    stopLsn: Type.Optional(Type.String()),
    sha256: Type.Optional(Type.String({ description: 'covers every file of the backup (native)' })),
    location: Type.String(),
    verified: Type.Literal(true),
    removed: Type.Array(Type.String(), { description: 'labels retention removed' }),
    tables: Type.Array(Type.Unknown(), { description: 'row counts and checksums at backup time' }),
  }),
  example: {
    id: 'nightly',
    with: { method: 'basebackup', storage: { type: 'local', path: '/var/backups/pg' } },
  },
  async run(ctx, input) {
    if (backupTool(ctx.env, input.tool) === 'pgbackrest')
      return backupToRepository(ctx, input.type ?? 'full');
    const spec = needStorage(input.storage, ctx.stepId);
    const method = input.method ?? 'basebackup';
    const maxAgeMs = input.maxAge === undefined ? undefined : parseDuration(input.maxAge);
    const tools = pgTools(input.binDir, ctx.stepId, ctx.signal);
    const storage = await openStorage(ctx, spec);
    const staging = await mkdtemp(join(input.workDir ?? tmpdir(), 'drillbook-backup-'));
    const filesDir = join(staging, 'files');
    try {
      await mkdir(filesDir);
      // Read before the work: an unreachable store or a damaged catalog fails before the backup.
      await readCatalog(storage);
      await storage.probeWrite();
      const started = new Date();
      const t0 = performance.now();
      const since = () => Math.round(performance.now() - t0);
      const made =
        method === 'basebackup'
          ? await baseBackup(ctx, input, tools, staging, filesDir)
          : await dumps(ctx, input, tools, filesDir);
      const makeMs = since();
      ctx.log(`${made.node}: ${method} made in ${makeMs} ms; verifying and storing`);
      const label = newLabel(method, started);
      // Verification, the upload into the store and the table sums run side by side: each waits on
      // a different thing (disk and CPU here, the store, the database). The catalog entry, the
      // commit point, is written only when all three succeeded; a failure removes what was uploaded.
      const timed = async <T>(work: Promise<T>) => [await work, since() - makeMs] as const;
      const verifying = timed(made.verify());
      const storing = timed(storeFiles(storage, filesDir, label, made.seen));
      const describing = made.describe();
      const outcome = await Promise.allSettled([verifying, storing, describing]);
      const failed = outcome.find((o) => o.status === 'rejected');
      if (failed) {
        await storage.removeBackup(label).catch(() => undefined);
        throw failed.reason;
      }
      const [, verifyMs] = await verifying;
      const [files, storeMs] = await storing;
      const { source, tables } = await describing;
      const entry: BackupEntry = {
        label,
        method,
        startedAt: started.toISOString(),
        finishedAt: new Date().toISOString(),
        durationMs: since(),
        sizeBytes: files.reduce((n, f) => n + f.size, 0),
        startLsn: made.wal.startLsn,
        stopLsn: made.wal.stopLsn,
        ...(method === 'basebackup' && { timeline: made.wal.timeline }),
        sha256: digestOfFiles(files),
        files,
        verified: true,
        verifiedBy: method === 'basebackup' ? 'pg_verifybackup' : 'pg_restore',
        source,
        tables,
      };
      // Re-read: another run may have written the catalog meanwhile; the commit point is this write.
      const catalog = await readCatalog(storage);
      catalog.backups.push(entry);
      await writeCatalog(storage, catalog);
      ctx.log(`${label}: ${entry.sizeBytes} bytes in ${entry.durationMs} ms, stored in ${storage.location}`);
      const victims = retentionVictims(catalog.backups, entry, { keep: input.keep, maxAgeMs }, Date.now());
      if (victims.length > 0) {
        // The catalog forgets them first: a crash then leaves unlisted files, never a dangling entry.
        catalog.backups = catalog.backups.filter((b) => !victims.includes(b));
        await writeCatalog(storage, catalog);
        for (const v of victims) await storage.removeBackup(v.label);
        ctx.log(`retention removed ${victims.map((v) => v.label).join(', ')}`);
      }
      return {
        label,
        method,
        sizeBytes: entry.sizeBytes,
        durationMs: entry.durationMs,
        // makeMs: pg_basebackup / pg_dump (a local base backup is extracted meanwhile). verifyMs
        // and storeMs are measured from the end of makeMs and overlap: they ran side by side.
        makeMs,
        verifyMs,
        storeMs,
        startLsn: entry.startLsn,
        stopLsn: entry.stopLsn,
        sha256: entry.sha256,
        location: `${storage.location.replace(/\/$/, '')}/${label}`,
        verified: true as const,
        removed: victims.map((v) => v.label),
        tables: entry.tables,
      };
    } finally {
      await rm(staging, { recursive: true, force: true });
      await storage.close();
    }
  },
  async dryRun(ctx, input) {
    if (backupTool(ctx.env, input.tool) === 'pgbackrest') return describeRepositoryBackup(ctx, input.type);
    const spec = needStorage(input.storage, ctx.stepId);
    const retention = [
      input.keep && `keep ${input.keep}`,
      input.maxAge && `remove older than ${input.maxAge}`,
    ].filter(Boolean);
    return `would back up ${resolveNode(ctx.env, input.source ?? 'primary')} with ${input.method === 'dump' ? 'pg_dump' : 'pg_basebackup'} (${input.on ?? 'local'}) into ${describeStorage(spec)}${retention.length ? `, then ${retention.join(', ')}` : ''}`;
  },
});

interface Made {
  node: string;
  wal: WalRange;
  /** Proves the files whole: pg_verifybackup, or a full pg_restore read of each dump. */
  verify(): Promise<void>;
  /** The source and its table sums. */
  describe(): Promise<Pick<BackupEntry, 'source' | 'tables'>>;
  /** SHA-256 of files as they were read while being made: the stored copy must be those bytes. */
  seen: Record<string, string>;
}

function sourceNode(ctx: ActionContext, input: BackupInput): SourceNode {
  const name = resolveNode(ctx.env, input.source ?? 'primary');
  const node = ctx.env.postgres.nodes[name];
  if (!node) throw new UserError(`step ${ctx.stepId}: no PostgreSQL node "${name}" in ${ctx.env.name}`);
  return { name, host: node.host, port: node.port };
}

const where = (input: BackupInput) => (input.on ?? 'local') as 'local' | `ssh:${string}`;

async function baseBackup(
  ctx: ActionContext,
  input: BackupInput,
  tools: ReturnType<typeof pgTools>,
  staging: string,
  filesDir: string,
): Promise<Made> {
  const pg = ctx.env.postgres;
  const node = sourceNode(ctx, input);
  const user = pg.replicationUser ?? pg.user;
  const ref = pg.replicationPassword ?? pg.password;
  const dataDir = join(staging, 'data');
  await mkdir(dataDir, { mode: 0o700 });
  const on = where(input);
  // Made here, pg_basebackup writes plain tars into raw/, and base.tar is extracted and compressed
  // into files/base.tar.gz while it is written. Fetched from a remote run (tar.gz; SFTP writes out
  // of order), base.tar.gz is extracted once complete.
  const rawDir = on === 'local' ? join(staging, 'raw') : filesDir;
  const producing = produceBaseBackup(
    ctx,
    {
      on,
      binDir: input.binDir,
      tools,
      node,
      user,
      password: ref ? await ctx.secret(ref) : '',
      wal: input.wal ?? 'stream',
    },
    rawDir,
  );
  const base = join(filesDir, BASE_TAR);
  const extracting =
    on === 'local'
      ? extractWhileWritten(join(rawDir, PLAIN_BASE_TAR), producing, dataDir, ctx.signal, base)
      : producing.then(() => extractWhileWritten(base, Promise.resolve(), dataDir, ctx.signal));
  const [produced, extracted] = await Promise.allSettled([producing, extracting]);
  // pg_basebackup's own failure explains a truncated or missing archive: it comes first.
  if (produced.status === 'rejected') throw produced.reason;
  if (extracted.status === 'rejected') throw extracted.reason;
  const seen = { [BASE_TAR]: extracted.value.sha256 };
  if (on === 'local') Object.assign(seen, await packRest(rawDir, filesDir, dataDir, ctx.signal));
  return {
    node: node.name,
    wal: produced.value,
    seen,
    async verify() {
      await verifyBaseBackup(tools, filesDir, dataDir, ctx.signal, { walExtracted: on === 'local' });
      // Removed now rather than with the staging directory: this overlaps with the other work.
      await rm(dataDir, { recursive: true, force: true });
    },
    // Taken right after the backup ends: equal to the backup's own state when the tables were not
    // written meanwhile (choose reference tables, or back up a quiet source).
    async describe() {
      const client = await connectNode(ctx.env, node.name, { signal: ctx.signal, secret: ctx.secret });
      try {
        const version = await client.query<{ v: string }>('SHOW server_version');
        return {
          source: {
            node: node.name,
            host: node.host,
            port: node.port,
            serverVersion: version.rows[0]!.v,
            databases: [pg.database],
          },
          tables: await tableSums(client, pg.database, input.tables ?? []),
        };
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  };
}

async function dumps(
  ctx: ActionContext,
  input: BackupInput,
  tools: ReturnType<typeof pgTools>,
  filesDir: string,
): Promise<Made> {
  const pg = ctx.env.postgres;
  const node = sourceNode(ctx, input);
  const databases = input.databases ?? [pg.database];
  // One snapshot, exported to pg_dump: the checksums see exactly the rows the dump holds.
  const client = await connectNode(ctx.env, node.name, { signal: ctx.signal, secret: ctx.secret });
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const snap = await client.query<{ snapshot: string; lsn: string; v: string }>(
      `SELECT pg_export_snapshot() AS snapshot, CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END::text AS lsn, current_setting('server_version') AS v`,
    );
    const { snapshot, lsn, v } = snap.rows[0]!;
    const tables = await tableSums(client, pg.database, input.tables ?? []);
    await produceDumps(
      ctx,
      {
        on: where(input),
        binDir: input.binDir,
        tools,
        node,
        user: pg.user,
        password: pg.password ? await ctx.secret(pg.password) : '',
        databases,
        snapshot: { database: pg.database, id: snapshot },
      },
      filesDir,
    );
    await client.query('COMMIT');
    const source = { node: node.name, host: node.host, port: node.port, serverVersion: v, databases };
    return {
      node: node.name,
      wal: { timeline: 0, startLsn: lsn, stopLsn: lsn },
      seen: {},
      verify: () => verifyDumps(tools, filesDir),
      describe: () => Promise.resolve({ source, tables }),
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}
