// Benchmarks for validation (issue #2):
//  1. `drillbook validate runbooks/pg-failover.yaml` as a whole process (median wall time; the
//     baseline is `node -e 0` in the same run, so the ratio shows drillbook's own share);
//  2. validating many runbooks in one process (runbooks per second; the baseline is the YAML
//     parse alone that the loader's fast path does, in the same process).
// Run: npm run build && npx tsx bench/validate.ts [runs]
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CORE_SCHEMA, load } from 'js-yaml';
import { checkSchema } from '../src/runbook/load.js';
import { applyRules } from '../src/runbook/check.js';
import { parseSource } from '../src/runbook/source.js';

const runs = Number(process.argv[2] ?? 9);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const wall = (args: string[]) => {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
  return performance.now() - t;
};

const nodeOnly: number[] = [];
const validate: number[] = [];
for (let i = 0; i < runs; i++) {
  nodeOnly.push(wall(['-e', '0']));
  validate.push(wall(['bin/drillbook.js', 'validate', 'runbooks/pg-failover.yaml']));
}
const v = median(validate);
const n = median(nodeOnly);
console.log(
  `validate pg-failover.yaml, whole process: median ${v.toFixed(0)} ms over ${runs} runs (target < 250 ms)`,
);
console.log(`  baseline node -e 0: median ${n.toFixed(0)} ms; ratio ${(v / n).toFixed(2)}x`);

const text = readFileSync('runbooks/pg-failover.yaml', 'utf8');
const count = 1000;
const rates: number[] = [];
const parseRates: number[] = [];
for (let r = 0; r < runs; r++) {
  let t = performance.now();
  for (let i = 0; i < count; i++) load(text, { schema: CORE_SCHEMA });
  parseRates.push(count / ((performance.now() - t) / 1000));
  t = performance.now();
  for (let i = 0; i < count; i++) {
    const doc = checkSchema(parseSource(`rb-${i}.yaml`, text));
    applyRules(doc, {});
  }
  rates.push(count / ((performance.now() - t) / 1000));
}
const rate = median(rates);
const parseRate = median(parseRates);
console.log(
  `validate ${count} runbooks in one process: median ${rate.toFixed(0)} runbooks/s (target >= 2000)`,
);
console.log(
  `  baseline YAML parse alone: ${parseRate.toFixed(0)}/s; validation costs ${(parseRate / rate).toFixed(2)}x parsing`,
);
