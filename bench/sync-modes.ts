// What each replication mode costs and protects: the same primary-kill drill under async, quorum
// and first, with a pgbench write load through the router at a set rate and the replication stream
// cut (iptables on the walsenders' connections) just before the kill, so that every write the
// primary acknowledges after the cut exists on the primary alone. Async must lose rows; quorum and
// first must not (their commits wait, unacknowledged, until the failover). Prints one Markdown
// table: mode × RTO p50, RPO rows, RPO bytes, and the load's commit latency p50/p99 before the cut.
// Needs root (iptables). Run: node --import tsx bench/sync-modes.ts [--modes async,quorum,first]
//   [--rounds 3] [--rate 100] [--load 5s] [--slot 9]
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { withNode } from '../src/connectors/postgres.js';
import { resolveSecretRef } from '../src/connectors/secrets.js';
import { parseDuration } from '../src/duration.js';
import { runDrill } from '../src/drill/run-drill.js';
import { PROBE_TABLE } from '../src/drill/probe.js';
import { withPrivateLab, type PrivateLab } from '../test/helpers/private-lab.js';
import { percentile } from './stats.js';

const { values } = parseArgs({
  options: {
    modes: { type: 'string', default: 'async,quorum,first' },
    rounds: { type: 'string', default: '3' },
    rate: { type: 'string', default: '100' },
    load: { type: 'string', default: '5s' },
    slot: { type: 'string', default: '9' },
  },
});
const CHAIN = 'DRILLBOOK-BENCH-CUT';
const iptables = (...args: string[]) => execFileSync('iptables', args, { stdio: 'pipe' });
const secret = resolveSecretRef;

/** Drops what the primary sends on its walsenders' connections (their client ports tell them apart). */
async function cutStream(lab: PrivateLab): Promise<void> {
  const { env } = lab;
  const primary = env.postgres.nodes[env.primary]!;
  const ports = await withNode(env, env.primary, { secret }, async (c) =>
    (await c.query<{ port: number }>('SELECT client_port AS port FROM pg_stat_replication')).rows.map(
      (r) => r.port,
    ),
  );
  for (const port of ports) {
    const rule = ['-s', primary.host, '-p', 'tcp', '--sport', String(primary.port), '--dport', String(port)];
    iptables('-A', CHAIN, ...rule, '-j', 'DROP');
  }
}

/** pgbench's simple-update load through the router, one line per transaction in its log. */
function startLoad(lab: PrivateLab, logDir: string, password: string) {
  const router = lab.environment.routers!.main!;
  if (router.type !== 'haproxy') throw new Error('the lab router is HAProxy');
  const pg = lab.environment.postgres;
  const bin = pg.nodes[lab.environment.primary]!.binDir!;
  const child = spawn(
    join(bin, 'pgbench'),
    [
      ...['-h', router.listen.host, '-p', String(router.listen.port), '-U', pg.user, '-n', '-N'],
      ...['-c', '2', '-R', values.rate, '-T', '600', '-l', '--log-prefix', join(logDir, 'tx'), pg.database],
    ],
    { env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: '2' }, stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    stop: async () => {
      child.kill('SIGINT');
      await exited;
    },
  };
}

/** Commit latencies (ms) of the transactions that finished before `before` (epoch ms). */
function latencies(logDir: string, before: number): number[] {
  return readdirSync(logDir).flatMap((f) =>
    readFileSync(join(logDir, f), 'utf8')
      .split('\n')
      .filter(Boolean)
      .flatMap((line) => {
        const [, , us, , epoch, epochUs] = line.split(' ').map(Number);
        const at = epoch! * 1000 + epochUs! / 1000;
        return at < before && Number.isFinite(us) ? [us! / 1000] : [];
      }),
  );
}

interface ModeResult {
  mode: string;
  rto: number[];
  rpoRows: number[];
  rpoBytes: (number | undefined)[];
  latency: number[];
}

async function benchMode(mode: string, work: string): Promise<ModeResult> {
  const result: ModeResult = { mode, rto: [], rpoRows: [], rpoBytes: [], latency: [] };
  await withPrivateLab(
    Number(values.slot),
    async (lab) => {
      const password = await secret(lab.environment.postgres.password!);
      await withNode(lab.env, lab.env.primary, { secret }, (c) =>
        c.query(
          `CREATE TABLE IF NOT EXISTS ${PROBE_TABLE} (run_id text NOT NULL, seq integer NOT NULL, sent_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (run_id, seq))`,
        ),
      );
      const bin = lab.environment.postgres.nodes.pg1!.binDir!;
      const router = lab.environment.routers!.main!;
      if (router.type !== 'haproxy') throw new Error('the lab router is HAProxy');
      execFileSync(
        join(bin, 'pgbench'),
        [
          '-i',
          '-s',
          '1',
          '-q',
          '-h',
          router.listen.host,
          '-p',
          String(router.listen.port),
          '-U',
          'drillbook',
          'drillbook',
        ],
        { env: { ...process.env, PGPASSWORD: password }, stdio: 'pipe' },
      );
      const drill = join(work, 'kill.yaml');
      writeFileSync(
        drill,
        `apiVersion: drillbook/v1\nkind: Drill\nmetadata: { name: sync-mode-kill }\nrunbook: ${process.cwd()}/runbooks/pg-failover.yaml\nrestore: ${process.cwd()}/runbooks/pg-failback.yaml\nenvironment: lab\nfault: { kind: kill-postgres, target: primary }\nobjectives: { rto: 1m, rpo: 1000000 }\n`,
      );
      for (let round = 1; round <= Number(values.rounds); round++) {
        const logDir = mkdtempSync(join(work, `${mode}-${round}-`));
        const load = startLoad(lab, logDir, password);
        await sleep(parseDuration(values.load)!);
        const cutAt = Date.now();
        await cutStream(lab);
        const outcome = await runDrill(
          { drillFile: drill, inventoryFile: lab.inventoryPath, stateDir: join(work, 'state') },
          { out: () => undefined, err: () => undefined },
        ).finally(() => iptables('-F', CHAIN));
        await load.stop();
        const f = outcome.figures!;
        if (outcome.restore?.status !== 'succeeded') throw new Error(`${mode} round ${round}: not restored`);
        if (f.rtoMs !== undefined) result.rto.push(f.rtoMs);
        result.rpoRows.push(f.rpoRows);
        result.rpoBytes.push(f.rpoBytes);
        result.latency.push(...latencies(logDir, cutAt));
        console.error(
          `${mode} round ${round}: RTO ${Math.round(f.rtoMs ?? NaN)} ms, RPO ${f.rpoRows} rows / ${f.rpoBytes ?? '—'} bytes`,
        );
      }
    },
    mode === 'async' ? {} : { syncMode: mode },
  );
  return result;
}

const work = mkdtempSync(join(tmpdir(), 'drillbook-bench-sync-'));
iptables('-N', CHAIN);
iptables('-I', 'INPUT', '1', '-j', CHAIN);
try {
  const results: ModeResult[] = [];
  for (const mode of values.modes.split(',')) results.push(await benchMode(mode, work));
  console.log(
    `| mode | RTO p50 | RPO rows (per round) | RPO bytes (per round) | commit latency p50 / p99 |\n| --- | --- | --- | --- | --- |`,
  );
  for (const r of results) {
    console.log(
      `| ${r.mode} | ${Math.round(percentile(r.rto, 50))} ms | ${r.rpoRows.join(', ')} | ${r.rpoBytes.map((b) => b ?? '—').join(', ')} | ${percentile(r.latency, 50).toFixed(2)} / ${percentile(r.latency, 99).toFixed(2)} ms |`,
    );
  }
  console.log(`\n${values.rounds} round(s) per mode, pgbench -N at ${values.rate} tx/s through HAProxy.`);
} finally {
  iptables('-D', 'INPUT', '-j', CHAIN);
  iptables('-F', CHAIN);
  iptables('-X', CHAIN);
  rmSync(work, { recursive: true, force: true });
}
