// Engine overhead per step: a 1,000-step runbook of `wait 0` steps with the journal on (fdatasync at
// every step boundary), against the same run without the journal, in one process.
// Run: node --import tsx bench/engine-overhead.ts   (targets: median < 1 ms/step, peak RSS < 150 MB)
// The measurement runs in a child process on an esbuild bundle of this file: the tsx loader alone
// takes ~95 MB of RSS, which a user's `drillbook run` (the bundled CLI) never pays.
import { spawnSync } from 'node:child_process';
import { closeSync, fdatasyncSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EnvContext } from '../src/actions/types.js';
import { RunEmitter } from '../src/engine/events.js';
import { JOURNAL_VERSION, openJournal } from '../src/engine/journal.js';
import type { RunSpec } from '../src/engine/run-spec.js';
import { executeRun } from '../src/engine/runner.js';
import type { Runbook } from '../src/schema/runbook.js';

const STEPS = 1000;
const RUNS = 7;

const runbook = {
  apiVersion: 'drillbook/v1',
  kind: 'Runbook',
  metadata: { name: 'bench' },
  steps: Array.from({ length: STEPS }, (_, i) => ({ id: `w${i}`, kind: 'wait', with: { duration: '0ms' } })),
} as unknown as Runbook;
const env = {
  name: 'bench',
  label: 'staging',
  primary: 'pg1',
  replicas: [],
  postgres: { database: 'x', user: 'x', nodes: { pg1: { host: '127.0.0.1', port: 5432 } } },
} as EnvContext;

async function once(dir: string | undefined, n: number): Promise<number> {
  const spec: RunSpec = {
    runId: `bench-${n}`,
    runbook,
    runbookPath: '/bench.yaml',
    runbookSha256: '0',
    env,
    inputs: {},
    secrets: {},
    operator: 'bench@local',
  };
  const emitter = new RunEmitter();
  const journal =
    dir === undefined
      ? undefined
      : openJournal(join(dir, `${n}.jsonl`), {
          type: 'journal',
          version: JOURNAL_VERSION,
          runId: spec.runId,
          createdAt: new Date().toISOString(),
          runbook: { name: 'bench', path: spec.runbookPath, sha256: '0' },
          inventory: '-',
          environment: { name: 'bench', label: 'staging' },
          inputs: {},
          operator: spec.operator,
          pid: process.pid,
        });
  if (journal) emitter.subscribe(journal.subscriber);
  const start = performance.now();
  const result = await executeRun(spec, { emitter, stateDir: dir ?? tmpdir() });
  const ms = performance.now() - start;
  journal?.close();
  if (result.status !== 'succeeded') throw new Error(`bench run failed: ${String(result.error)}`);
  return ms / STEPS;
}

if (!process.env.DRILLBOOK_BENCH_CHILD) {
  const { bundleForNode } = await import('../test/engine/helpers.js');
  const outdir = resolve('node_modules/.cache/drillbook-bench');
  mkdirSync(outdir, { recursive: true });
  const outfile = join(outdir, `engine-overhead-${process.pid}.mjs`);
  await bundleForNode(fileURLToPath(import.meta.url), outfile);
  const child = spawnSync(process.execPath, [outfile], {
    stdio: 'inherit',
    env: { ...process.env, DRILLBOOK_BENCH_CHILD: '1' },
  });
  rmSync(outfile, { force: true });
  process.exit(child.status ?? 1);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = mkdtempSync(join(tmpdir(), 'drillbook-bench-'));
try {
  await once(dir, -1); // warm-up: module loading, validator compilation
  await once(undefined, -2);
  const withJournal: number[] = [];
  const without: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    withJournal.push(await once(dir, i));
    without.push(await once(undefined, i));
  }
  const mj = median(withJournal);
  // The disk's own flush latency at the same moment: the journal's cost is one fdatasync per step.
  const probe = openSync(join(dir, 'probe'), 'a');
  const flushes: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    writeSync(probe, 'x\n');
    fdatasyncSync(probe);
    flushes.push(performance.now() - t0);
  }
  closeSync(probe);
  const mn = median(without);
  const rss = process.resourceUsage().maxRSS / 1024;
  console.log(`steps per run: ${STEPS}, runs: ${RUNS}`);
  console.log(
    `engine overhead per step, journal on : median ${mj.toFixed(3)} ms (runs: ${withJournal.map((x) => x.toFixed(3)).join(' ')})`,
  );
  console.log(
    `engine overhead per step, journal off: median ${mn.toFixed(3)} ms (runs: ${without.map((x) => x.toFixed(3)).join(' ')})`,
  );
  console.log(
    `ratio journal on / off: ${(mj / mn).toFixed(2)}x; journal cost per step ${(mj - mn).toFixed(3)} ms`,
  );
  console.log(
    `disk: write + fdatasync median ${median(flushes).toFixed(3)} ms (what one step boundary costs at least)`,
  );
  console.log(`peak RSS: ${rss.toFixed(1)} MB`);
  const ok = mj < 1 && rss < 150;
  console.log(
    ok ? 'PASS (median < 1 ms/step, RSS < 150 MB)' : 'FAIL (targets: median < 1 ms/step, RSS < 150 MB)',
  );
  process.exitCode = ok ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
