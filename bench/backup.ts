// Benchmark: backup and restore-test of a lab database with ~100 MB of data (generate_series), on a
// private lab (slot 8 addresses). Per round: pg_basebackup alone with the same options (-Ft -z -X
// stream -c fast), the backup action (pg_basebackup + pg_verifybackup + SHA-256 + store + catalog)
// and the restore-test action. Prints the medians, backup throughput against pg_basebackup alone,
// and the restore/backup ratio. Run: node --import tsx bench/backup.ts [rounds=3] [rows=1000000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../src/actions/registry.js';
import { backup } from '../src/actions/backup.js';
import { restoreTest } from '../src/actions/restore-test.js';
import { pgTools } from '../src/backup/tools.js';
import { connectPostgres, nodeEndpoint } from '../src/connectors/postgres.js';
import { resolveSecretRef } from '../src/connectors/secrets.js';
import { actionContext } from '../test/helpers/action-context.js';
import { withPrivateLab } from '../test/helpers/private-lab.js';

const rounds = Number(process.argv[2] ?? 3);
const rows = Number(process.argv[3] ?? 1_000_000);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

await withPrivateLab(
  8,
  async (lab) => {
    const env = lab.environment;
    const client = await connectPostgres(nodeEndpoint(env, 'primary'), { secret: resolveSecretRef });
    await client.query(
      `CREATE TABLE bench AS SELECT g AS id, md5(g::text) || md5((g + 1)::text) AS payload FROM generate_series(1, $1::int) g`,
      [rows],
    );
    await client.query('ALTER TABLE bench ADD PRIMARY KEY (id)');
    await client.query('CHECKPOINT');
    const size = await client.query<{ s: string }>('SELECT pg_database_size(current_database())::text AS s');
    await client.end();
    const dbBytes = Number(size.rows[0]!.s);
    console.log(`database: ${(dbBytes / 1e6).toFixed(0)} MB (${rows} rows in table bench)`);

    const work = mkdtempSync(join(tmpdir(), 'drillbook-bench-backup-'));
    const tools = pgTools(undefined, 'bench', AbortSignal.timeout(3_600_000));
    const pg1 = env.postgres.nodes.pg1!;
    const password = await resolveSecretRef(env.postgres.replicationPassword!);
    const raw: number[] = [];
    const made: number[] = [];
    const restored: number[] = [];
    const usable: number[] = [];
    let stored = 0;
    try {
      for (let i = 1; i <= rounds; i++) {
        const rawDir = join(work, `raw-${i}`);
        let t = performance.now();
        await tools.run(
          'pg_basebackup',
          [
            '-d',
            `host=${pg1.host} port=${pg1.port} user=${env.postgres.replicationUser}`,
            '-D',
            rawDir,
            '-Ft',
            '-z',
            '-X',
            'stream',
            '-c',
            'fast',
            '--no-sync',
          ],
          { env: { PGPASSWORD: password } },
        );
        raw.push(performance.now() - t);
        rmSync(rawDir, { recursive: true, force: true });

        const storage = { type: 'local' as const, path: join(work, 'store') };
        t = performance.now();
        const out = await backup.run!(actionContext(env), { storage, tables: ['bench'], keep: 1 });
        made.push(performance.now() - t);
        stored = Number(out.sizeBytes);
        t = performance.now();
        const r = await restoreTest.run!(actionContext(env), { storage });
        restored.push(performance.now() - t);
        usable.push(Number(r.timeToUsableMs));
        console.log(
          `round ${i}: pg_basebackup ${seconds(raw.at(-1)!)}, backup ${seconds(made.at(-1)!)} (make ${out.makeMs} ms, verify ${out.verifyMs} ms, store ${out.storeMs} ms), restore-test ${seconds(restored.at(-1)!)} (usable after ${seconds(usable.at(-1)!)})`,
        );
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    const throughput = (ms: number) => `${(dbBytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s`;
    console.log(
      `\nmedians over ${rounds} rounds (database ${(dbBytes / 1e6).toFixed(0)} MB, stored ${(stored / 1e6).toFixed(1)} MB compressed):`,
    );
    console.log(`  pg_basebackup alone  ${seconds(median(raw))}  ${throughput(median(raw))}`);
    console.log(
      `  backup action        ${seconds(median(made))}  ${throughput(median(made))}  (throughput ratio to pg_basebackup ${(median(raw) / median(made)).toFixed(2)})`,
    );
    console.log(
      `  restore-test         ${seconds(median(restored))}  (usable after ${seconds(median(usable))})`,
    );
    console.log(`  restore-test / backup ${(median(restored) / median(made)).toFixed(2)}`);
  },
  { archive: true, archiveTimeout: '60s', replicas: 0 },
);
