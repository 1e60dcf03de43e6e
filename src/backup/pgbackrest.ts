// pgBackRest, the backup tool many teams run: its repository is the catalog (read from
// `pgbackrest info --output=json`), its commands run as the user that runs PostgreSQL (the
// repository and the restored files must be that user's), with argv arrays, never a shell.
import { Type } from '@sinclair/typebox';
import { StepFailure, UserError, errorMessage } from '../errors.js';
import { OneOf } from '../schema/common.js';
import { checkStorageSpec, type StorageSpec } from './storage/spec.js';
import { STANZA_PATTERN, type Environment } from '../schema/inventory.js';
import { run, type RunResult } from '../system/exec.js';
import { serviceUser, type OsUser } from '../system/os-user.js';

export const PGBACKREST = 'pgbackrest';

export interface Repository {
  stanza: string;
  /** pgbackrest.conf: the repository and the stanza's PostgreSQL are described there. */
  config: string;
  user: OsUser;
}

export type BackupTool = 'native' | 'pgbackrest';

/** The step's tool, else the environment's (inventory `backups.tool`), else drillbook's own format. */
export const backupTool = (env: Environment, asked?: BackupTool): BackupTool =>
  asked ?? env.backups?.tool ?? 'native';

export function repositoryOf(env: Environment & { name: string }, stepId: string): Repository {
  const b = env.backups;
  if (!b?.stanza || !b.config) {
    throw new UserError(
      `step ${stepId}: backups with pgbackrest need backups.stanza and backups.config in the inventory environment ${env.name}`,
    );
  }
  if (!new RegExp(STANZA_PATTERN).test(b.stanza)) {
    throw new UserError(
      `step ${stepId}: backups.stanza ${JSON.stringify(b.stanza)} is not a plain stanza name`,
    );
  }
  return { stanza: b.stanza, config: b.config, user: serviceUser() };
}

/** `pgbackrest --config=C --stanza=S [args] command`, as the repository's user. */
export async function pgbackrest(
  repo: Repository,
  command: string,
  args: readonly string[] = [],
  signal?: AbortSignal,
): Promise<RunResult> {
  const argv = [`--config=${repo.config}`, `--stanza=${repo.stanza}`, ...args, command];
  try {
    return await run(PGBACKREST, argv, { as: repo.user, signal });
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw new StepFailure(`pgbackrest ${command} (stanza ${repo.stanza}) failed: ${errorMessage(err)}`, {
      retryable: false,
      cause: err,
    });
  }
}

/** One backup set as `pgbackrest info` describes it. */
export interface RepoBackup {
  label: string;
  type: 'full' | 'diff' | 'incr';
  startedAt: string;
  /** When the backup stopped: the earliest time a recovery from it can reach (its consistency point). */
  finishedAt: string;
  startLsn: string;
  stopLsn: string;
  /** Size of the database it holds, and what it takes in the repository (compressed, deltas only). */
  sizeBytes: number;
  repoSizeBytes: number;
  /** Set by pgBackRest when it met checksum errors while copying. */
  error: boolean;
}

interface InfoStanza {
  name: string;
  status: { code: number; message: string };
  backup?: {
    label: string;
    type: RepoBackup['type'];
    timestamp: { start: number; stop: number };
    lsn?: { start: string; stop: string };
    info: { size: number; repository: { size: number } };
    error?: boolean;
  }[];
}

/** pgBackRest's status code for a stanza that exists and has no backup yet. */
const NO_VALID_BACKUP = 2;

/**
 * The stanza's backups, oldest first. Every stanza of the repository is read, so an inventory
 * naming a stanza the repository lacks is told which ones it has.
 */
export async function readRepository(repo: Repository, signal?: AbortSignal): Promise<RepoBackup[]> {
  const { stdout } = await run(PGBACKREST, [`--config=${repo.config}`, '--output=json', 'info'], {
    as: repo.user,
    signal,
  }).catch((err: unknown) => {
    throw new StepFailure(`pgbackrest info (${repo.config}) failed: ${errorMessage(err)}`, { cause: err });
  });
  let stanzas: InfoStanza[];
  try {
    stanzas = JSON.parse(stdout) as InfoStanza[];
    if (!Array.isArray(stanzas)) throw new Error('not a list of stanzas');
  } catch (err) {
    throw new StepFailure(`pgbackrest info gave output that is not its JSON: ${errorMessage(err)}`);
  }
  const stanza = stanzas.find((s) => s.name === repo.stanza);
  if (!stanza) {
    const names = stanzas.map((s) => s.name);
    throw new UserError(
      `stanza ${repo.stanza} is not in the pgBackRest repository of ${repo.config}; its stanzas: ${names.length ? names.join(', ') : 'none'}`,
    );
  }
  if (stanza.status.code !== 0 && stanza.status.code !== NO_VALID_BACKUP) {
    throw new StepFailure(`pgBackRest stanza ${repo.stanza}: ${stanza.status.message}`);
  }
  return (stanza.backup ?? []).map((b) => ({
    label: b.label,
    type: b.type,
    startedAt: new Date(b.timestamp.start * 1000).toISOString(),
    finishedAt: new Date(b.timestamp.stop * 1000).toISOString(),
    startLsn: b.lsn?.start ?? '',
    stopLsn: b.lsn?.stop ?? '',
    sizeBytes: b.info.size,
    repoSizeBytes: b.info.repository.size,
    error: b.error ?? false,
  }));
}

/** The named backup, or the newest one without errors that `accept` takes. */
export function chooseRepoBackup(
  backups: RepoBackup[],
  repo: Repository,
  label: string | undefined,
  accept: (b: RepoBackup) => boolean = () => true,
): RepoBackup {
  if (label) {
    const named = backups.find((b) => b.label === label);
    if (!named) throw new StepFailure(`no backup labelled ${label} in pgBackRest stanza ${repo.stanza}`);
    return named;
  }
  const newest = [...backups].reverse().find((b) => !b.error && accept(b));
  if (!newest) {
    throw new StepFailure(`no usable backup in pgBackRest stanza ${repo.stanza} (${backups.length} sets)`);
  }
  return newest;
}

/**
 * `pgbackrest restore` of one backup set into a data directory that does not exist yet (a scratch
 * instance's): pgBackRest writes recovery.signal and a restore_command that fetches WAL from the
 * repository; `recovery` says where the recovery stops (`--type=immediate`, `--type=time --target=...`).
 * The instance promotes there.
 */
export async function restoreSet(
  repo: Repository,
  set: RepoBackup,
  dataDir: string,
  recovery: readonly string[],
  signal: AbortSignal,
): Promise<void> {
  await pgbackrest(
    repo,
    'restore',
    [`--pg1-path=${dataDir}`, `--set=${set.label}`, ...recovery, '--target-action=promote'],
    signal,
  );
}

export const toolField = Type.Optional(
  OneOf(['native', 'pgbackrest'], {
    description:
      "native: drillbook's own store (storage); pgbackrest: the stanza of the inventory's backups.stanza and backups.config (storage is not used). Default: the inventory's backups.tool, else native",
  }),
);

/** The native tool's store: required there, and checked before anything connects. */
export function needStorage(storage: StorageSpec | undefined, stepId: string): StorageSpec {
  if (!storage) throw new UserError(`step ${stepId}: storage is needed when the backup tool is native`);
  checkStorageSpec(storage, stepId);
  return storage;
}

/** What `pgbackrest verify` says of a problem: its own error lines and its per-backup summary. */
const VERIFY_PROBLEM = /\b(ERROR|WARN):|status: error|status: invalid|\binvalid\b|\bmissing\b/;

/**
 * `pgbackrest verify` of the stanza (every file of every backup and the archive against their
 * checksums). pgBackRest 2.45 exits 0 even when it found corrupt files, and prints its findings
 * only at log level info: the lines themselves decide, and any problem line is a failure.
 */
export async function verifyRepository(
  repo: Repository,
  label: string | undefined,
  signal: AbortSignal,
): Promise<{ checkedBy: string; summary: string }> {
  const args = ['--log-level-console=info', ...(label ? [`--set=${label}`] : [])];
  let output: string;
  try {
    const { stdout, stderr } = await pgbackrest(repo, 'verify', args, signal);
    output = `${stdout}\n${stderr}`;
  } catch (err) {
    throw err instanceof StepFailure ? err : new StepFailure(errorMessage(err), { cause: err });
  }
  // Log lines carry a timestamp and process; the summary's continuation lines are indented.
  const lines = output.split('\n').map((l) => l.replace(/^\S+ \S+ P\d+ +(\w+): /, '$1: ').trim());
  const problems = lines.filter((l) => VERIFY_PROBLEM.test(l));
  if (problems.length) {
    throw new StepFailure(
      `pgbackrest verify of stanza ${repo.stanza} found problems: ${problems.join('; ')}`,
    );
  }
  const summary = lines.filter((l) => /^backup: |^archiveId: /.test(l)).join('; ');
  return { checkedBy: 'pgbackrest verify', summary: summary || 'no problems reported' };
}
