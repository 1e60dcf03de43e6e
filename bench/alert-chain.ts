// bench/alert-chain (issue 16): how long the whole chain takes when an alert, not the drill, starts
// the failover. N drills/primary-kill-alerted.yaml on a private --sync --monitoring lab, back to
// back: p50/p95 of each link (fault → alert firing → webhook received → runbook started → route
// switched → clients back) and of the end-to-end client-observed RTO. Then a serve of its own under
// RATE webhook POSTs a second for SECONDS seconds, one new alert a second and every POST of that
// second a duplicate of it: runs started per alert (exactly one expected), p99 response time, peak
// RSS. Targets: alerted RTO p50 <= 5 s, webhook p99 < 50 ms, serve RSS < 200 MB.
// Run (after npm run build): node --import tsx bench/alert-chain.ts [--runs 10] [--slot 25]
//   [--rate 200] [--seconds 30]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runDrill } from '../src/drill/run-drill.js';
import type { TimelineMark } from '../src/schema/drill-outcome.js';
import { withPrivateLab } from '../test/helpers/private-lab.js';
import { percentile } from './stats.js';
import { webhookLoad } from './webhook-load.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    slot: { type: 'string', default: '25' },
    rate: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '30' },
  },
});
const [runs, slot, rate, seconds] = [values.runs, values.slot, values.rate, values.seconds].map(Number);
for (const [flag, v] of Object.entries({ runs, slot, rate, seconds }))
  if (!Number.isInteger(v) || v! < 0) {
    console.error(`--${flag} must be a whole number`);
    process.exit(2);
  }

const ms = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '-' : `${Math.round(x)} ms`);
const spread = (xs: number[]) =>
  `p50 ${ms(percentile(xs, 50))}, p95 ${ms(percentile(xs, 95))} (n=${xs.length})`;
const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** Each link: from one mark to the next (first occurrence of each). */
const LINKS: [string, TimelineMark['mark'], TimelineMark['mark']][] = [
  ['fault → alert firing', 'fault', 'alert-firing'],
  ['alert firing → webhook received', 'alert-firing', 'webhook-received'],
  ['webhook received → runbook started', 'webhook-received', 'runbook-started'],
  ['runbook started → route switched', 'runbook-started', 'routed'],
  ['route switched → clients back', 'routed', 'first-ack'],
];
const links = new Map<string, number[]>(LINKS.map(([name]) => [name, []]));
const endToEnd: number[] = [];
const failures: string[] = [];

const dir = mkdtempSync(join(tmpdir(), 'drillbook-alert-chain-'));
const loadBefore = loadAverage();
const started = performance.now();
let load: Awaited<ReturnType<typeof webhookLoad>> | undefined;
try {
  await withPrivateLab(
    slot!,
    async (lab) => {
      for (let i = 1; i <= runs!; i++) {
        const outcome = await runDrill(
          {
            drillFile: 'drills/primary-kill-alerted.yaml',
            inventoryFile: lab.inventoryPath,
            stateDir: join(dir, 'state'),
          },
          { out: () => undefined, err: () => undefined },
        );
        const at = new Map<string, number>();
        for (const m of outcome.figures?.timeline ?? []) if (!at.has(m.mark)) at.set(m.mark, m.at);
        const parts: string[] = [];
        for (const [name, from, to] of LINKS) {
          const d = at.has(from) && at.has(to) ? at.get(to)! - at.get(from)! : undefined;
          if (d !== undefined) links.get(name)!.push(d);
          parts.push(ms(d));
        }
        if (outcome.figures?.rtoMs !== undefined) endToEnd.push(outcome.figures.rtoMs);
        if (outcome.verdict !== 'pass')
          failures.push(`#${i} ${outcome.runId}: ${(outcome.reasons ?? []).join('; ')}`);
        console.log(
          `${i}/${runs} ${outcome.verdict}: RTO ${ms(outcome.figures?.rtoMs)}; links ${parts.join(' / ')}`,
        );
      }
      if (rate! > 0 && seconds! > 0)
        load = await webhookLoad({
          dir,
          inventory: lab.inventoryPath,
          tokenFile: join(lab.dir, 'secrets', 'alertmanager-token'),
          rate: rate!,
          seconds: seconds!,
        });
    },
    { sync: true, monitoring: true },
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `\n${runs} alerted primary-kill drill(s), --sync --monitoring lab (slot ${slot}), ${((performance.now() - started) / 60_000).toFixed(1)} min; load average before ${loadBefore}, after ${loadAverage()}`,
);
console.log('\n| link | time |\n| --- | --- |');
for (const [name] of LINKS) console.log(`| ${name} | ${spread(links.get(name)!)} |`);
console.log(`| end to end: client-observed RTO (fault → clients back) | ${spread(endToEnd)} |`);
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
const rtoP50 = percentile(endToEnd, 50);
console.log(`\ntargets:\n  alerted RTO p50 <= 5 s: ${ms(rtoP50)} ${verdict(rtoP50 <= 5000)}`);
if (load) {
  const p99 = percentile(load.latenciesMs, 99);
  const once = [...load.startedPerAlert.values()].filter((n) => n === 1).length;
  console.log(
    `  webhook p99 < 50 ms at ${rate}/s for ${seconds} s: ${ms(p99)} ${verdict(p99 < 50)} (p50 ${ms(percentile(load.latenciesMs, 50))}, max ${ms(Math.max(...load.latenciesMs))})`,
  );
  console.log(`  serve peak RSS < 200 MB: ${load.peakRssMb.toFixed(0)} MB ${verdict(load.peakRssMb < 200)}`);
  console.log(
    `  runs started exactly once per alert: ${once}/${load.alerts} alerts ${verdict(once === load.alerts && load.startedPerAlert.size === load.alerts)}`,
  );
  console.log(
    `\nload: ${load.posts} POSTs, ${load.errors} errors, statuses ${JSON.stringify(Object.fromEntries(load.statuses))}, outcomes ${JSON.stringify(Object.fromEntries(load.outcomes))}`,
  );
}
for (const f of failures) console.log(`failure ${f}`);
if (failures.length) process.exitCode = 1;
