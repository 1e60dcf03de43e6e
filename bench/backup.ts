// Benchmark: backup and restore-test of a pgbench database (scale 70 ≈ 1 GB by default), on a
// private lab of its own (slot 14: the tests use 7 and 8). Per round, in one process:
//   1. pg_basebackup alone, making what the action stores: a gzipped tar backup with its WAL
//      (-Ft -z -X stream -c fast --no-sync);
//   2. the backup action (pg_basebackup of plain tars, gzipped and extracted as they are written,
//      + pg_verifybackup + SHA-256 + store + catalog: the same files, verified), summing
//      the small tables pgbench_branches and pgbench_tellers;
//   3. restore-test of that backup (total, and time until the scratch instance is usable);
//   4. the backup action again, also summing pgbench_accounts (the big table: its sum costs a full
//      scan of the source), unless the third argument is `no-accounts`.
// Prints the medians, throughputs (database size / time) and the backup/pg_basebackup ratio, with
// the CPU time each used here and the machine's load (the lab shares the machine with other work).
// Run: node --import tsx bench/backup.ts [rounds=3] [scale=70] [accounts|no-accounts]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import '../src/actions/registry.js';
import { backup } from '../src/actions/backup.js';
import { restoreTest } from '../src/actions/restore-test.js';
import { resolveSecretRef } from '../src/connectors/secrets.js';
import { withPrivateLab } from '../test/helpers/private-lab.js';
import { median, pgbenchDatabase, seconds } from './pgbench-db.js';

const SLOT = 14;
const rounds = Number(process.argv[2] ?? 3);
const scale = Number(process.argv[3] ?? 70);
const withAccounts = process.argv[4] !== 'no-accounts';
const SMALL = ['pgbench_branches', 'pgbench_tellers'];
const ALL = [...SMALL, 'pgbench_accounts'];

/**
 * CPU seconds used so far by this process and its finished children (pg_basebackup, tar, gzip,
 * pg_verifybackup: /proc/self/stat cutime + cstime). The servers' CPU (walsender, table sums) is
 * not in it. On a busy machine the wall time follows the CPU work more than the overlap.
 */
function cpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  const own = process.cpuUsage();
  return (Number(fields[13]) + Number(fields[14])) / 100 + (own.user + own.system) / 1e6;
}

await withPrivateLab(
  SLOT,
  async (lab) => {
    const env = lab.environment;
    const pg1 = env.postgres.nodes.pg1!;
    const { tools, ctx, dbBytes } = await pgbenchDatabase(env, scale);
    let t = performance.now();

    const work = mkdtempSync(join(tmpdir(), 'drillbook-bench-backup-'));
    const password = await resolveSecretRef(env.postgres.replicationPassword!);
    const storage = { type: 'local' as const, path: join(work, 'store') };
    const raw: number[] = [];
    const rawCpu: number[] = [];
    const madeCpu: number[] = [];
    const loads: number[] = [];
    const made: number[] = [];
    const madeAll: number[] = [];
    const restored: number[] = [];
    const usable: number[] = [];
    const parts: string[] = [];
    let stored = 0;
    try {
      for (let i = 1; i <= rounds; i++) {
        const rawDir = join(work, `raw-${i}`);
        let cpu = cpuSeconds();
        t = performance.now();
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
        rawCpu.push(cpuSeconds() - cpu);
        rmSync(rawDir, { recursive: true, force: true });

        cpu = cpuSeconds();
        t = performance.now();
        const out = await backup.run!(ctx(), { storage, tables: SMALL, keep: 1 });
        made.push(performance.now() - t);
        madeCpu.push(cpuSeconds() - cpu);
        stored = Number(out.sizeBytes);
        t = performance.now();
        const r = await restoreTest.run!(ctx(), { storage });
        restored.push(performance.now() - t);
        usable.push(Number(r.timeToUsableMs));
        parts.length = 0;
        parts.push(
          `pg_basebackup ${seconds(raw.at(-1)!)} (CPU ${rawCpu.at(-1)!.toFixed(1)} s)`,
          `backup ${seconds(made.at(-1)!)} (CPU ${madeCpu.at(-1)!.toFixed(1)} s; make ${out.makeMs} ms, verify ${out.verifyMs} ms, store ${out.storeMs} ms)`,
          `restore-test ${seconds(restored.at(-1)!)} (usable after ${seconds(usable.at(-1)!)})`,
        );
        if (withAccounts) {
          t = performance.now();
          const all = await backup.run!(ctx(), { storage, tables: ALL, keep: 1 });
          madeAll.push(performance.now() - t);
          parts.push(
            `backup summing pgbench_accounts too ${seconds(madeAll.at(-1)!)} (make ${all.makeMs} ms, verify ${all.verifyMs} ms, store ${all.storeMs} ms)`,
          );
        }
        loads.push(loadavg()[0]!);
        console.log(`round ${i}: ${parts.join(', ')}; load average ${loads.at(-1)!.toFixed(1)}`);
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    const throughput = (ms: number) => `${(dbBytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s`;
    // The ratio of the medians, and the median of each round's own ratio: on a shared machine the
    // load moves between rounds, and the paired figure compares runs made seconds apart.
    const ratio = (made: number[]) =>
      `${(median(raw) / median(made)).toFixed(2)} (per round ${made.map((m, i) => (raw[i]! / m).toFixed(2)).join(', ')}: median ${median(made.map((m, i) => raw[i]! / m)).toFixed(2)})`;
    console.log(
      `\nmedians over ${rounds} rounds (database ${(dbBytes / 1e6).toFixed(0)} MB, stored ${(stored / 1e6).toFixed(1)} MB compressed):`,
    );
    console.log(
      `  pg_basebackup alone  ${seconds(median(raw))}  ${throughput(median(raw))}  (CPU here ${median(rawCpu).toFixed(1)} s)`,
    );
    console.log(
      `  backup action        ${seconds(median(made))}  ${throughput(median(made))}  throughput ratio backup/pg_basebackup ${ratio(made)}  (tables summed: ${SMALL.join(', ')}; CPU here ${median(madeCpu).toFixed(1)} s)`,
    );
    if (withAccounts) {
      console.log(
        `  backup action        ${seconds(median(madeAll))}  ${throughput(median(madeAll))}  throughput ratio backup/pg_basebackup ${ratio(madeAll)}  (tables summed: ${ALL.join(', ')})`,
      );
    }
    console.log(
      `  restore-test         ${seconds(median(restored))}  (usable after ${seconds(median(usable))})`,
    );
    console.log(
      `  machine: ${cpus().length} CPUs, 1-minute load average ${median(loads).toFixed(1)} (median at round ends)`,
    );
  },
  { archive: true, archiveTimeout: '60s', replicas: 0 },
);
