// Benchmark: N rounds of `lab up` (2 replicas) and `lab down`, printing the median of each.
// Targets: up < 20 s, down < 5 s. Run: node --import tsx bench/lab-up.ts [rounds=3]
// Uses its own addresses and ports, so it runs beside a demo or test lab.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labDown, labUp } from '../src/lab/index.js';

const rounds = Number(process.argv[2] ?? 3);
const parent = mkdtempSync(join(tmpdir(), 'drillbook-bench-'));
chmodSync(parent, 0o755); // PostgreSQL's user must reach it when run as root
const dir = join(parent, 'lab');
const options = {
  dir,
  replicas: 2,
  baseAddress: '127.0.0.70',
  routerPort: 6482,
  dnsPort: 5413,
  dnsApiPort: 8141,
  slackPort: 4059,
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

const ups: number[] = [];
const downs: number[] = [];
try {
  for (let i = 1; i <= rounds; i++) {
    let t = performance.now();
    await labUp(options);
    ups.push(performance.now() - t);
    t = performance.now();
    await labDown(dir);
    downs.push(performance.now() - t);
    console.log(`round ${i}: up ${seconds(ups.at(-1) ?? 0)}, down ${seconds(downs.at(-1) ?? 0)}`);
  }
} finally {
  await labDown(dir).catch(() => undefined);
  rmSync(parent, { recursive: true, force: true });
}
console.log(`lab up   (2 replicas) median of ${rounds}: ${seconds(median(ups))} (target < 20 s)`);
console.log(`lab down              median of ${rounds}: ${seconds(median(downs))} (target < 5 s)`);
