// Shared pieces of the backup tests: SQL on the lab primary, directories the service user can
// reach, waiting for WAL to reach the archive, and checks that nothing of a scratch instance remains.
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import '../../src/actions/registry.js';
import { pollUntil } from '../../src/connectors/poll.js';
import { connectPostgres, nodeEndpoint } from '../../src/connectors/postgres.js';
import { resolveSecretRef } from '../../src/connectors/secrets.js';
import { isRoot, serviceUser } from '../../src/system/os-user.js';
import { portAnswers } from '../../src/system/ports.js';
import type { PrivateLab } from '../helpers/private-lab.js';

/** A query on the lab's primary; rows as objects. */
export async function sql<T = Record<string, unknown>>(
  lab: PrivateLab,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = await connectPostgres(nodeEndpoint(lab.environment, 'primary'), {
    secret: resolveSecretRef,
  });
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** The `items` table with 5000 rows (kept when it is there): data for table checksums to compare. */
export async function items(lab: PrivateLab): Promise<void> {
  await sql(lab, 'CREATE TABLE IF NOT EXISTS items (id int PRIMARY KEY, v text)');
  await sql(
    lab,
    `INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 5000) g ON CONFLICT DO NOTHING`,
  );
}

/** A fresh directory under one parent removed after the file's tests; `forService` hands it to PostgreSQL's user. */
export function tempDirs(prefix: string) {
  const parent = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(parent, 0o755);
  after(() => rmSync(parent, { recursive: true, force: true }));
  let n = 0;
  return (name: string, forService = false) => {
    const dir = join(parent, `${name}-${n++}`);
    mkdirSync(dir, { mode: 0o755 });
    if (forService && isRoot()) {
      const u = serviceUser();
      chownSync(dir, u.uid, u.gid);
    }
    return dir;
  };
}

/** Switches to a new WAL segment and waits until the old one is in the lab's archive. */
export async function archiveNow(lab: PrivateLab): Promise<string> {
  const [row] = await sql<{ file: string }>(lab, 'SELECT pg_walfile_name(pg_switch_wal()) AS file');
  const file = join(lab.dir, 'archive', row!.file);
  const done = await pollUntil(async () => (existsSync(file) ? true : undefined), {
    timeoutMs: 30_000,
    intervalMs: 50,
  });
  if (!done) throw new Error(`${row!.file} did not reach the archive`);
  return row!.file;
}

/** Nothing of a scratch instance remains: no directory, no process naming the root, the port is free. */
export async function assertNoScratch(root: string, port: number | undefined): Promise<string[]> {
  const problems: string[] = [];
  const left = existsSync(root) ? readdirSync(root) : [];
  if (left.length) problems.push(`left in ${root}: ${left.join(', ')}`);
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(root))
        problems.push(`process ${pid} still runs in ${root}`);
    } catch {
      // gone meanwhile
    }
  }
  if (port && (await portAnswers('127.0.0.1', port))) problems.push(`port ${port} still answers`);
  return problems;
}
