// Making the backup files in a local staging directory: pg_basebackup (tar, gzip, WAL included,
// with a manifest) or pg_dump -Fc per database, run here or on the database host over SSH. A
// remote run writes into a temporary directory there, and the files come back over SFTP.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { binDirOn, runRemote } from '../connectors/node-host.js';
import { shq } from '../connectors/shell-quote.js';
import { sshConnect } from '../connectors/ssh.js';
import { StepFailure, errorMessage } from '../errors.js';
import type { PgTools } from './tools.js';
import type { BackupContext } from './context.js';

export interface SourceNode {
  name: string;
  host: string;
  port: number;
}

export interface WhereToRun {
  /** `local`, or the inventory SSH host that runs the programs. */
  on: 'local' | `ssh:${string}`;
  /** binDir for a remote run (else the binDir of a node on that host, else the PATH). */
  binDir?: string;
  tools: PgTools;
}

export interface BaseBackupRequest extends WhereToRun {
  node: SourceNode;
  user: string;
  password: string;
  wal: 'stream' | 'fetch';
}

export interface DumpRequest extends WhereToRun {
  node: SourceNode;
  user: string;
  password: string;
  databases: readonly string[];
  /**
   * An exported snapshot of one database: its dump sees exactly what the table checksums saw. A
   * snapshot belongs to its database, so the other databases are dumped on their own.
   */
  snapshot?: { database: string; id: string };
}

export interface WalRange {
  timeline: number;
  startLsn: string;
  stopLsn: string;
}

type Ctx = Pick<BackupContext, 'env' | 'signal' | 'secret'>;

const conninfo = (node: SourceNode, user: string, database?: string) =>
  `host=${node.host} port=${node.port} user=${user}${database ? ` dbname=${database}` : ''} application_name=drillbook-backup connect_timeout=10`;

/**
 * A local run writes plain tar files that drillbook compresses as it extracts them (see
 * follow.ts); a remote one compresses there (-z), so that less crosses the network.
 */
function baseBackupArgs(r: BaseBackupRequest, dir: string): string[] {
  const compress = r.on === 'local' ? [] : ['-z'];
  return [
    '-d',
    conninfo(r.node, r.user),
    '-D',
    dir,
    '-Ft',
    ...compress,
    '-X',
    r.wal,
    '-c',
    'fast',
    '--no-sync',
  ];
}

/** Runs pg_basebackup into `staging` (plain tars here, tar.gz from a remote run); returns the WAL range from its manifest. */
export async function produceBaseBackup(ctx: Ctx, r: BaseBackupRequest, staging: string): Promise<WalRange> {
  const what = `pg_basebackup of ${r.node.name}`;
  if (r.on === 'local') {
    await r.tools.run('pg_basebackup', baseBackupArgs(r, staging), {
      env: { PGPASSWORD: r.password },
      what,
    });
  } else {
    await runRemotely(ctx, r, staging, (dir, tool) =>
      [tool('pg_basebackup'), ...baseBackupArgs(r, dir).map(shq)].join(' '),
    );
  }
  return walRange(join(staging, 'backup_manifest'));
}

/** Runs pg_dump -Fc for each database into `staging` (`<database>.dump`). */
export async function produceDumps(ctx: Ctx, r: DumpRequest, staging: string): Promise<void> {
  const args = (database: string, dir: string) => [
    '-Fc',
    '-d',
    conninfo(r.node, r.user, database),
    '-f',
    `${dir}/${database}.dump`,
    ...(r.snapshot?.database === database ? [`--snapshot=${r.snapshot.id}`] : []),
  ];
  if (r.on === 'local') {
    for (const database of r.databases) {
      await r.tools.run('pg_dump', args(database, staging), {
        env: { PGPASSWORD: r.password },
        what: `pg_dump of ${database} on ${r.node.name}`,
      });
    }
    return;
  }
  await runRemotely(ctx, r, staging, (dir, tool) =>
    r.databases.map((d) => [tool('pg_dump'), ...args(d, dir).map(shq)].join(' ')).join(' && '),
  );
}

/**
 * Runs `command` (built for a remote temporary directory) on the SSH host with the password on
 * stdin, copies every file it made into `staging`, and removes the remote directory in any case.
 */
async function runRemotely(
  ctx: Ctx,
  r: WhereToRun & { password: string },
  staging: string,
  command: (dir: string, tool: (name: string) => string) => string,
): Promise<void> {
  const host = r.on.slice('ssh:'.length);
  const binDir = r.binDir ?? binDirOn(ctx.env, host);
  const tool = (name: string) => shq(binDir ? `${binDir}/${name}` : name);
  const made = await runRemote(
    ctx,
    host,
    'making a temporary directory',
    'mktemp -d "${TMPDIR:-/tmp}/drillbook-backup.XXXXXX"',
  );
  const dir = made.stdout.trim();
  try {
    await runRemote(
      ctx,
      host,
      'the backup',
      ['set -e', 'IFS= read -r PGPASSWORD || true; export PGPASSWORD', command(dir, tool)].join('\n'),
      { stdin: `${r.password}\n` },
    );
    await fetchDirectory(ctx, host, dir, staging);
  } finally {
    await runRemote(ctx, host, 'removing the temporary directory', `rm -rf ${shq(dir)}`).catch(
      () => undefined,
    );
  }
}

async function fetchDirectory(ctx: Ctx, host: string, remoteDir: string, localDir: string): Promise<void> {
  const ssh = await sshConnect(ctx.env, host, { signal: ctx.signal, secret: ctx.secret });
  try {
    const listed = await ssh.execCommand(`find ${shq(remoteDir)} -maxdepth 1 -type f -printf '%f\\n'`);
    await mkdir(localDir, { recursive: true });
    for (const name of listed.stdout.split('\n').filter(Boolean)) {
      await ssh.getFile(join(localDir, name), `${remoteDir}/${name}`);
    }
  } catch (err) {
    throw new StepFailure(`${host}: copying the backup from ${remoteDir} failed: ${errorMessage(err)}`);
  } finally {
    ssh.dispose();
  }
}

/** The WAL range a base backup needs, from its manifest (timeline, first and last LSN). */
async function walRange(manifest: string): Promise<WalRange> {
  const parsed = JSON.parse(await readFile(manifest, 'utf8')) as {
    'WAL-Ranges'?: { Timeline: number; 'Start-LSN': string; 'End-LSN': string }[];
  };
  const ranges = parsed['WAL-Ranges'] ?? [];
  const first = ranges[0];
  const last = ranges.at(-1);
  if (!first || !last) throw new StepFailure(`${manifest} has no WAL-Ranges: not a PostgreSQL 13+ manifest`);
  return { timeline: last.Timeline, startLsn: first['Start-LSN'], stopLsn: last['End-LSN'] };
}
