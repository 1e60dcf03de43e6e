// lab up --archive --backup-tool pgbackrest: a pgBackRest stanza for the lab's PostgreSQL, its
// repository on local disk under <lab>/pgbackrest, owned by the user that runs PostgreSQL (the
// archiver pushes WAL into it as that user), and archive_command = pgbackrest archive-push.
import { join } from 'node:path';
import { pgbackrest, type Repository } from '../backup/pgbackrest.js';
import { shq } from '../connectors/shell-quote.js';
import { makeServiceDir, writeServiceFile } from '../system/os-user.js';
import type { LabNode } from './config.js';
import type { LabContext } from './context.js';
import { nodePaths, type LabPaths } from './paths.js';

export const LAB_STANZA = 'lab';

export const labRepository = (ctx: Pick<LabContext, 'paths' | 'serviceUser'>): Repository => ({
  stanza: LAB_STANZA,
  config: join(ctx.paths.pgbackrest, 'pgbackrest.conf'),
  user: ctx.serviceUser,
});

const repoPath = (paths: LabPaths) => join(paths.pgbackrest, 'repo');

/** The repository's directories and pgbackrest.conf, describing the stanza on the lab's first node. */
export function writePgbackrestConfig(ctx: LabContext, primary: LabNode): void {
  const dir = ctx.paths.pgbackrest;
  for (const d of [dir, repoPath(ctx.paths), join(dir, 'log'), join(dir, 'lock'), join(dir, 'spool')]) {
    makeServiceDir(d, ctx.serviceUser, 0o750);
  }
  const node = nodePaths(ctx.paths, primary.name);
  const conf = [
    '# Written by drillbook lab.',
    '[global]',
    `repo1-path=${repoPath(ctx.paths)}`,
    'repo1-retention-full=4',
    `log-path=${join(dir, 'log')}`,
    `lock-path=${join(dir, 'lock')}`,
    `spool-path=${join(dir, 'spool')}`,
    'log-level-console=warn',
    'log-level-file=info',
    // A lab backup must not wait for the next checkpoint (up to checkpoint_timeout).
    'start-fast=y',
    // lz4: this machine is shared and small, gzip would make every backup CPU-bound.
    'compress-type=lz4',
    '',
    `[${LAB_STANZA}]`,
    `pg1-path=${node.data}`,
    `pg1-port=${primary.port}`,
    `pg1-socket-path=${node.socket}`,
    `pg1-user=${ctx.serviceUser.name}`,
  ];
  writeServiceFile(labRepository(ctx).config, conf.join('\n') + '\n', ctx.serviceUser, 0o640);
}

/**
 * archive_command of a node. pg1-path is the node's own data directory: archive-push resolves
 * PostgreSQL's relative %p against it, and a promoted replica must push its own WAL.
 */
export function pgbackrestArchiveCommand(ctx: LabContext, node: LabNode): string {
  const { config, stanza } = labRepository(ctx);
  return [
    'pgbackrest',
    shq(`--config=${config}`),
    shq(`--stanza=${stanza}`),
    shq(`--pg1-path=${nodePaths(ctx.paths, node.name).data}`),
    'archive-push',
    '"%p"',
  ].join(' ');
}

/** stanza-create (a no-op on a stanza that matches) and check, which proves archive-push works. */
export async function ensureStanza(ctx: LabContext): Promise<void> {
  const repo = labRepository(ctx);
  await pgbackrest(repo, 'stanza-create');
  await pgbackrest(repo, 'check');
  ctx.report(`pgbackrest: stanza ${repo.stanza} in ${repoPath(ctx.paths)} (check passed)`);
}
