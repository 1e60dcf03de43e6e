// pg-failover end to end on a private lab: 5 times SIGKILL of the primary, `drillbook run
// pg-failover.yaml` (the CLI's own entry, as the runbook tests run it), then pg-failback to restore
// pg1 for the next run. Prints the median end-to-end duration of the failover, each step's median
// and promote alone (the median of its promotionMs output: pg_promote until out of recovery).
// Run: node --import tsx bench/failover.ts [--runs 5] [--slot 10] [--sync]
// Slot 10 (127.0.0.101.., ports 16500..) is apart from the test lab (slot 2's addresses) and the
// slots the tests and other benches use (3..9).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { withPrivateLab } from '../test/helpers/private-lab.js';
import { assertCluster, failures, killPostmaster, runRunbook } from '../test/helpers/runbook-run.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    slot: { type: 'string', default: '10' },
    sync: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const ms = (x: number) => `${Math.round(x)} ms`;

const stateDir = mkdtempSync(join(tmpdir(), 'drillbook-bench-failover-'));
try {
  await withPrivateLab(
    Number(values.slot),
    async (lab) => {
      const totals: number[] = [];
      const promotions: number[] = [];
      const steps = new Map<string, number[]>();
      for (let i = 1; i <= runs; i++) {
        await killPostmaster(lab, 'pg1');
        const run = await runRunbook(lab, 'pg-failover.yaml', { stateDir, set: [`reason=bench run ${i}`] });
        if (run.code !== 0) throw new Error(`failover ${i} failed:\n${failures(run)}`);
        const picked = run.steps.get('pick')!.outputs.node as string;
        await assertCluster(lab, picked, ['pg1']);
        totals.push(run.finished!.durationMs);
        promotions.push(run.steps.get('promote')!.outputs.promotionMs as number);
        for (const [id, s] of run.steps) steps.set(id, [...(steps.get(id) ?? []), s.durationMs]);
        console.error(`run ${i}: failover to ${picked} in ${ms(run.finished!.durationMs)}`);

        const back = await runRunbook(lab, 'pg-failback.yaml', { stateDir, set: [`current=${picked}`] });
        if (back.code !== 0) throw new Error(`failback ${i} failed:\n${failures(back)}`);
        await assertCluster(lab, 'pg1');
      }
      console.log(
        `pg-failover on the lab (slot ${values.slot}${values.sync ? ', --sync' : ''}), ${runs} runs`,
      );
      console.log(`end to end (median): ${ms(median(totals))}   [${totals.map(ms).join(', ')}]`);
      console.log('steps (median of the runs each ran in):');
      for (const [id, xs] of steps)
        console.log(`  ${id.padEnd(22)} ${ms(median(xs)).padStart(8)}  (${xs.length} runs)`);
      console.log(`promote alone (median promotionMs): ${median(promotions).toFixed(1)} ms`);
    },
    { sync: values.sync },
  );
} finally {
  rmSync(stateDir, { recursive: true, force: true });
}
