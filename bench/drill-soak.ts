// bench/drill-soak: N consecutive drills of each kind asked for, back to back in one process (as the
// daemon runs scheduled drills: no pause between them, the restore of one right before the fault of
// the next), on a private lab with synchronous replication. It goes on after a failure and prints
// the pass rate, each failure with its reasons, RPO, the client-observed RTO distribution (p50,
// p95), the restore's duration and its rejoin step's, and the processes left after lab down.
// Run: node --import tsx bench/drill-soak.ts [runs=20] [slot=12] [--drills primary-kill,switchover,...]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runDrill } from '../src/drill/run-drill.js';
import { readJournal } from '../src/engine/journal.js';
import { journalPath } from '../src/system/run-paths.js';
import { withPrivateLab } from '../test/helpers/private-lab.js';
import { percentile } from './stats.js';

const SHIPPED = ['primary-kill', 'primary-freeze', 'network-partition', 'switchover', 'replica-lag'];
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { drills: { type: 'string', default: 'primary-kill' } },
});
const runs = Number(positionals[0] ?? 20);
const slot = Number(positionals[1] ?? 12);
const kinds = values.drills.split(',').map((k) => k.trim());
for (const k of kinds) {
  if (!SHIPPED.includes(k)) {
    console.error(`unknown drill ${k}: one of ${SHIPPED.join(', ')}`);
    process.exit(2);
  }
}

const stateDir = mkdtempSync(join(tmpdir(), 'drillbook-soak-'));
const quiet = { out: () => undefined, err: () => undefined };
const ms = (x: number) => (Number.isNaN(x) ? '-' : `${x.toFixed(0)} ms`);
const spread = (xs: number[]) =>
  `p50 ${ms(percentile(xs, 50))}, p95 ${ms(percentile(xs, 95))}, max ${ms(xs.length ? Math.max(...xs) : NaN)}`;

/** Processes whose command line names the lab directory (the lab's own test for its processes). */
const processesOf = (dir: string) =>
  readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false;
      }
    });

interface Tally {
  passed: number;
  failures: string[];
  rto: number[];
  rpoNonZero: number;
  restoreMs: number[];
  rejoinMs: number[];
}
const tallies = new Map<string, Tally>(
  kinds.map((k) => [k, { passed: 0, failures: [], rto: [], rpoNonZero: 0, restoreMs: [], rejoinMs: [] }]),
);

/** The restore run's own duration and its rejoin of the old primary, from its journal. */
function restoreTimes(runId: string | undefined): { total?: number; rejoin?: number } {
  if (!runId) return {};
  const events = readJournal(journalPath(stateDir, runId)).events;
  const finished = events.find((e) => e.type === 'run-finished');
  const rejoin = events.find((e) => e.type === 'step-finished' && e.stepId === 'rejoin-original');
  return {
    total: finished?.type === 'run-finished' ? finished.durationMs : undefined,
    rejoin: rejoin?.type === 'step-finished' ? rejoin.durationMs : undefined,
  };
}

let labDir = '';
const started = performance.now();
try {
  await withPrivateLab(
    slot,
    async (lab) => {
      labDir = lab.dir;
      for (let i = 1; i <= runs; i++) {
        for (const kind of kinds) {
          const t = tallies.get(kind)!;
          let line: string;
          try {
            const o = await runDrill(
              { drillFile: `drills/${kind}.yaml`, inventoryFile: lab.inventoryPath, stateDir },
              quiet,
            );
            const times = restoreTimes(o.restore?.runId);
            if (times.total !== undefined) t.restoreMs.push(times.total);
            if (times.rejoin !== undefined) t.rejoinMs.push(times.rejoin);
            const rpo = o.figures?.rpoRows;
            if (rpo !== 0) t.rpoNonZero++;
            const rto = o.figures?.rtoMs;
            if (rto !== undefined) t.rto.push(rto);
            const ok = o.verdict === 'pass' && rpo === 0 && o.restore?.status === 'succeeded';
            if (ok) t.passed++;
            else
              t.failures.push(
                `#${i} ${o.runId}: ${(o.reasons ?? []).join('; ') || `restore ${o.restore?.status}`}`,
              );
            line = `${ok ? 'pass' : 'FAIL'}, RTO ${rto === undefined ? '-' : ms(rto)}, RPO ${rpo ?? '-'}, restore ${o.restore?.status} in ${times.total === undefined ? '-' : ms(times.total)}${ok ? '' : `: ${t.failures.at(-1)}`}`;
          } catch (err) {
            t.failures.push(`#${i}: ${err instanceof Error ? err.message : String(err)}`);
            line = `ERROR: ${t.failures.at(-1)}`;
          }
          console.log(`${kind} ${i}/${runs}: ${line}`);
        }
      }
    },
    { sync: true },
  );
} finally {
  rmSync(stateDir, { recursive: true, force: true });
}

const leaked = processesOf(labDir);
console.log(
  `\n${runs} round(s) of ${kinds.join(', ')} in one process, back to back (--sync), ${((performance.now() - started) / 60_000).toFixed(1)} min`,
);
let failed = 0;
for (const [kind, t] of tallies) {
  failed += t.failures.length;
  console.log(
    `\n${kind}: ${t.passed}/${runs} passed (${((100 * t.passed) / runs).toFixed(0)}%), RPO not 0 in ${t.rpoNonZero}`,
  );
  console.log(`  client-observed RTO: ${spread(t.rto)}`);
  console.log(
    `  restore (failback runbook): ${spread(t.restoreMs)}; its rejoin of the old primary: ${spread(t.rejoinMs)}`,
  );
  for (const f of t.failures) console.log(`  failure ${f}`);
}
console.log(`\nprocesses left after lab down: ${leaked.length}`);
if (leaked.length || failed) process.exitCode = 1;
