// bench/drill-soak: N consecutive primary-kill drills on a private lab with synchronous
// replication. Every drill must pass with RPO 0 and leave no process behind; prints the
// client-observed RTO distribution (p50, p95) and, as the baseline measured in the same run, the
// promotion alone (the promote step's own duration) so the ratio shows what detection and routing add.
// Run: npm run build && node --import tsx bench/drill-soak.ts [runs=20] [slot=12]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDrill } from '../src/drill/run-drill.js';
import { readJournal } from '../src/engine/journal.js';
import { journalPath } from '../src/system/run-paths.js';
import { withPrivateLab } from '../test/helpers/private-lab.js';

const runs = Number(process.argv[2] ?? 20);
const slot = Number(process.argv[3] ?? 12);
const stateDir = mkdtempSync(join(tmpdir(), 'drillbook-soak-'));
const quiet = { out: () => undefined, err: () => undefined };
const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

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

let labDir = '';
const rto: number[] = [];
const promote: number[] = [];
try {
  await withPrivateLab(
    slot,
    async (lab) => {
      labDir = lab.dir;
      for (let i = 1; i <= runs; i++) {
        const o = await runDrill(
          { drillFile: 'drills/primary-kill.yaml', inventoryFile: lab.inventoryPath, stateDir },
          quiet,
        );
        const events = readJournal(journalPath(stateDir, o.runId)).events;
        const promoted = events.find((e) => e.type === 'step-finished' && e.stepId === 'promote');
        if (o.verdict !== 'pass' || o.figures?.rpoRows !== 0 || o.figures.rtoMs === undefined) {
          throw new Error(`drill ${i} (${o.runId}) did not pass: ${JSON.stringify(o.reasons)}`);
        }
        rto.push(o.figures.rtoMs);
        if (promoted?.type === 'step-finished') promote.push(promoted.durationMs);
        console.log(
          `drill ${i}/${runs}: pass, RTO ${o.figures.rtoMs.toFixed(0)} ms, RPO 0, restore ${o.restore?.status}`,
        );
      }
    },
    { sync: true },
  );
} finally {
  rmSync(stateDir, { recursive: true, force: true });
}
const leaked = processesOf(labDir);
console.log(`\n${runs} primary-kill drills, all passed, RPO 0 rows each (--sync)`);
console.log(
  `client-observed RTO: p50 ${quantile(rto, 0.5).toFixed(0)} ms, p95 ${quantile(rto, 0.95).toFixed(0)} ms, max ${Math.max(...rto).toFixed(0)} ms`,
);
console.log(
  `baseline, promote step alone: p50 ${quantile(promote, 0.5).toFixed(0)} ms; RTO/promote ratio ${(quantile(rto, 0.5) / quantile(promote, 0.5)).toFixed(1)}x`,
);
console.log(`processes left after lab down: ${leaked.length}`);
if (leaked.length) process.exitCode = 1;
