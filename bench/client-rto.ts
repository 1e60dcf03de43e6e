// bench/client-rto: N primary-kill drills (drills/primary-kill.yaml: profiles typical and
// impatient, plus independent-twin) on a private lab with synchronous replication, each with the
// independent psycopg2 client writing through the router beside the drill's probes
// (test/helpers/cross-check.ts). Prints, per profile, the client-observed RTO, the longest gap and
// the failback (restore) outage as p50/p95; the independent client's gaps in the failover and the
// failback windows and how far they are from the twin profile's figures in every run; and the
// targets of issue 15 (typical RTO p50 <= 1.0 s, impatient <= 0.5 s, agreement within 150 ms in
// every run, failback outage p50 <= 1.0 s per profile).
// Run: node --import tsx bench/client-rto.ts [--runs 10] [--slot 23]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AGREEMENT_MS, crossCheckDrill, TWIN, writeCrossCheckDrill } from '../test/helpers/cross-check.js';
import { withPrivateLab } from '../test/helpers/private-lab.js';
import { percentile } from './stats.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    slot: { type: 'string', default: '23' },
  },
});
const runs = Number(values.runs);
const slot = Number(values.slot);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`--runs must be a positive integer, got ${values.runs}`);
  process.exit(2);
}

const ms = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '-' : `${Math.round(x)} ms`);
const spread = (xs: number[]) => `p50 ${ms(percentile(xs, 50))}, p95 ${ms(percentile(xs, 95))}`;
const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

interface ProfileTally {
  rto: number[];
  gap: number[];
  restore: number[];
}
const profiles = new Map<string, ProfileTally>();
const independent = { failover: [] as number[], restore: [] as number[] };
const disagreements: string[] = [];
const deltas = { failover: [] as number[], restore: [] as number[] };
const failures: string[] = [];

const stateDir = mkdtempSync(join(tmpdir(), 'drillbook-client-rto-'));
const loadBefore = loadAverage();
const started = performance.now();
try {
  const drillFile = writeCrossCheckDrill(stateDir);
  await withPrivateLab(
    slot,
    async (lab) => {
      for (let i = 1; i <= runs; i++) {
        try {
          const x = await crossCheckDrill(lab, stateDir, drillFile);
          if (x.outcome.verdict !== 'pass')
            failures.push(`#${i} ${x.outcome.runId}: ${(x.outcome.reasons ?? []).join('; ')}`);
          const parts: string[] = [];
          for (const c of x.outcome.figures?.clients ?? []) {
            const t = profiles.get(c.name) ?? { rto: [], gap: [], restore: [] };
            profiles.set(c.name, t);
            if (c.rtoMs !== undefined) t.rto.push(c.rtoMs);
            t.gap.push(c.longestGapMs);
            if (c.restoreOutageMs !== undefined) t.restore.push(c.restoreOutageMs);
            parts.push(
              `${c.name} RTO ${ms(c.rtoMs)} gap ${ms(c.longestGapMs)} restore ${ms(c.restoreOutageMs)}`,
            );
          }
          independent.failover.push(x.failoverGapMs);
          if (x.restoreGapMs !== undefined) independent.restore.push(x.restoreGapMs);
          const dFailover = x.failoverGapMs - x.twin.longestGapMs;
          const dRestore =
            x.restoreGapMs === undefined || x.twin.restoreOutageMs === undefined
              ? undefined
              : x.restoreGapMs - x.twin.restoreOutageMs;
          deltas.failover.push(Math.abs(dFailover));
          if (dRestore !== undefined) deltas.restore.push(Math.abs(dRestore));
          if (
            Math.abs(dFailover) > AGREEMENT_MS ||
            dRestore === undefined ||
            Math.abs(dRestore) > AGREEMENT_MS
          )
            disagreements.push(
              `#${i} ${x.outcome.runId}: failover ${ms(dFailover)}, restore ${ms(dRestore)}`,
            );
          console.log(
            `${i}/${runs} ${x.outcome.verdict}: ${parts.join('; ')}; independent gap ${ms(x.failoverGapMs)} (${ms(dFailover)} vs ${TWIN}) restore ${ms(x.restoreGapMs)} (${ms(dRestore)})`,
          );
        } catch (err) {
          failures.push(`#${i}: ${err instanceof Error ? err.message : String(err)}`);
          console.log(`${i}/${runs} ERROR: ${failures.at(-1)}`);
        }
      }
    },
    { sync: true },
  );
} finally {
  rmSync(stateDir, { recursive: true, force: true });
}

const p50 = (xs: number[] | undefined) => (xs?.length ? percentile(xs, 50) : NaN);
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
console.log(
  `\n${runs} primary-kill drill(s), --sync lab (slot ${slot}), ${((performance.now() - started) / 60_000).toFixed(1)} min; load average before ${loadBefore}, after ${loadAverage()}`,
);
console.log('\n| profile | RTO | longest gap | failback outage |\n| --- | --- | --- | --- |');
for (const [name, t] of profiles)
  console.log(`| ${name} | ${spread(t.rto)} | ${spread(t.gap)} | ${spread(t.restore)} |`);
console.log(
  `| independent client (psycopg2, as ${TWIN}) | - | ${spread(independent.failover)} | ${spread(independent.restore)} |`,
);
console.log(`\nindependent client's failover gaps: ${independent.failover.map(ms).join(', ')}`);
console.log(`independent client's failback gaps: ${independent.restore.map(ms).join(', ')}`);
console.log(
  `|independent - ${TWIN}|: failover max ${ms(Math.max(...deltas.failover))}, failback max ${ms(Math.max(...deltas.restore))}`,
);
const typical = p50(profiles.get('typical')?.rto);
const impatient = p50(profiles.get('impatient')?.rto);
console.log(`\ntargets:`);
console.log(`  typical RTO p50 <= 1.0 s: ${ms(typical)} ${verdict(typical <= 1000)}`);
console.log(`  impatient RTO p50 <= 0.5 s: ${ms(impatient)} ${verdict(impatient <= 500)}`);
console.log(
  `  agreement within ${AGREEMENT_MS} ms in every run: ${disagreements.length ? `MISSED in ${disagreements.join('; ')}` : `met (${runs}/${runs})`}`,
);
for (const [name, t] of profiles)
  console.log(
    `  ${name} failback outage p50 <= 1.0 s: ${ms(p50(t.restore))} ${verdict(p50(t.restore) <= 1000)}`,
  );
for (const f of failures) console.log(`failure ${f}`);
if (failures.length) process.exitCode = 1;
