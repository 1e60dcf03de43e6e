// Benchmark: the backup action with the pgbackrest tool against plain `pgbackrest backup`, on one
// pgbench database (scale 70 ≈ 1 GB by default) in a private lab made with --backup-tool
// pgbackrest (slot 17). Per round, in one process:
//   1. `pgbackrest --stanza=lab --type=full backup`, run directly as PostgreSQL's user;
//   2. the backup action, tool pgbackrest, type full (the same command, plus reading the
//      repository's catalog before and after);
//   3. restore-test of that set (pgbackrest restore into a scratch instance): total and time to usable;
//   4. for comparison on the same database, the native tool: the backup action into a local store
//      and restore-test of it (time to usable).
// Prints the medians, throughputs (database size / time) and the action/plain ratio (of the medians
// and per round), with the machine's load (the lab shares the machine with other work).
// Run: node --import tsx bench/pgbackrest.ts [rounds=3] [scale=70]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import '../src/actions/registry.js';
import { backup } from '../src/actions/backup.js';
import { restoreTest } from '../src/actions/restore-test.js';
import { connectPostgres, nodeEndpoint } from '../src/connectors/postgres.js';
import { resolveSecretRef } from '../src/connectors/secrets.js';
import { serviceUser } from '../src/system/os-user.js';
import { withPrivateLab } from '../test/helpers/private-lab.js';
import { median, pgbenchDatabase, seconds } from './pgbench-db.js';

const SLOT = 17;
const rounds = Number(process.argv[2] ?? 3);
const scale = Number(process.argv[3] ?? 70);

await withPrivateLab(
  SLOT,
  async (lab) => {
    const env = lab.environment;
    const { ctx, dbBytes } = await pgbenchDatabase(env, scale);

    // Plain pgBackRest, as an operator would run it: the lab's config, as PostgreSQL's user.
    const user = serviceUser();
    const plainArgs = [
      `--config=${env.backups!.config!}`,
      `--stanza=${env.backups!.stanza!}`,
      '--type=full',
      'backup',
    ];
    const plain = () =>
      process.getuid?.() === 0 && user.uid !== 0
        ? execFileSync('runuser', ['-u', user.name, '--', 'pgbackrest', ...plainArgs], { stdio: 'inherit' })
        : execFileSync('pgbackrest', plainArgs, { stdio: 'inherit' });

    const checkpoint = async () => {
      const client = await connectPostgres(nodeEndpoint(env, 'primary'), { secret: resolveSecretRef });
      await client.query('CHECKPOINT').finally(() => client.end());
    };
    const work = mkdtempSync(join(tmpdir(), 'drillbook-bench-pgbackrest-'));
    const storage = { type: 'local' as const, path: join(work, 'store') };
    // Per round, in ms (load: the 1-minute load average at the round's end).
    const f = {
      raw: [],
      made: [],
      overhead: [],
      restored: [],
      usable: [],
      nativeMade: [],
      nativeUsable: [],
      load: [],
    } as Record<
      'raw' | 'made' | 'overhead' | 'restored' | 'usable' | 'nativeMade' | 'nativeUsable' | 'load',
      number[]
    >;
    const last = (xs: number[]) => xs.at(-1)!;
    const timed = async <T>(into: number[], work: () => T | Promise<T>): Promise<T> => {
      const t0 = performance.now();
      const result = await work();
      into.push(performance.now() - t0);
      return result;
    };
    let repoBytes = 0;
    try {
      for (let i = 1; i <= rounds; i++) {
        // Odd rounds run plain pgbackrest first, even rounds the action first: whichever goes
        // second finds the database in the page cache, and the order must not decide the ratio.
        // Each starts from a clean checkpoint (untimed): a backup's own start-fast checkpoint would
        // otherwise flush what the previous work dirtied, and only for whichever goes first.
        const plainRun = async () => (await checkpoint(), await timed(f.raw, plain));
        const actionRun = async () => (
          await checkpoint(),
          await timed(f.made, () => backup.run!(ctx(), { tool: 'pgbackrest', type: 'full' }))
        );
        if (i % 2) await plainRun();
        const out = await actionRun();
        if (!(i % 2)) await plainRun();
        repoBytes = Number(out.sizeBytes);
        // The action's own share: its time outside the pgbackrest backup command (catalog reads).
        f.overhead.push(last(f.made) - Number(out.makeMs));
        const r = await timed(f.restored, () =>
          restoreTest.run!(ctx(), { tool: 'pgbackrest', label: out.label }),
        );
        f.usable.push(Number(r.timeToUsableMs));
        await timed(f.nativeMade, () => backup.run!(ctx(), { tool: 'native', storage, keep: 1 }));
        const n = await restoreTest.run!(ctx(), { tool: 'native', storage });
        f.nativeUsable.push(Number(n.timeToUsableMs));
        f.load.push(loadavg()[0]!);
        console.log(
          `round ${i} (${i % 2 ? 'plain first' : 'action first'}): pgbackrest backup ${seconds(last(f.raw))}, backup action (pgbackrest) ${seconds(last(f.made))} (ratio ${(last(f.raw) / last(f.made)).toFixed(3)}; outside the pgbackrest command ${Math.round(last(f.overhead))} ms), restore-test (pgbackrest) ${seconds(last(f.restored))} usable after ${seconds(last(f.usable))}; native: backup action ${seconds(last(f.nativeMade))}, restore-test usable after ${seconds(last(f.nativeUsable))}; load average ${last(f.load).toFixed(1)}`,
        );
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    const { raw, made, overhead, restored, usable, nativeMade, nativeUsable, load: loads } = f;
    const throughput = (ms: number) => `${(dbBytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s`;
    const perRound = made.map((m, i) => raw[i]! / m);
    console.log(
      `\nmedians over ${rounds} rounds (database ${(dbBytes / 1e6).toFixed(0)} MB, backup size ${(repoBytes / 1e6).toFixed(0)} MB):`,
    );
    console.log(`  plain pgbackrest backup        ${seconds(median(raw))}  ${throughput(median(raw))}`);
    console.log(
      `  backup action, tool pgbackrest ${seconds(median(made))}  ${throughput(median(made))}  throughput ratio action/plain ${(median(raw) / median(made)).toFixed(3)} (per round ${perRound.map((x) => x.toFixed(3)).join(', ')}; median ${median(perRound).toFixed(3)}); the action's time outside the pgbackrest command: median ${Math.round(median(overhead))} ms`,
    );
    console.log(
      `  restore-test, pgbackrest       ${seconds(median(restored))}  (time to usable ${seconds(median(usable))})`,
    );
    console.log(
      `  backup action, tool native     ${seconds(median(nativeMade))}  ${throughput(median(nativeMade))}`,
    );
    console.log(`  restore-test, native           time to usable ${seconds(median(nativeUsable))}`);
    console.log(
      `  machine: ${cpus().length} CPUs, 1-minute load average ${median(loads).toFixed(1)} (median at round ends)`,
    );
  },
  { archive: true, archiveTimeout: '60s', backupTool: 'pgbackrest', replicas: 0 },
);
