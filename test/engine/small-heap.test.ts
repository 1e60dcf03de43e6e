// The CLI keeps V8's young generation small (src/system/small-heap.ts): V8 takes the flags at run
// time, so peak RSS does not grow with the length of a run (bench/engine-overhead.ts measures it).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { cliBundle, writeFiles } from './helpers.js';

/** The young generation's size (MB) when `CLI validate` of `steps` wait steps exits. */
async function youngGenerationMb(cli: string, steps: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'drillbook-small-heap-'));
  try {
    const body = Array.from(
      { length: steps },
      (_, i) => `  - { id: w${i}, kind: wait, with: { duration: 0ms } }`,
    );
    const { runbook } = writeFiles(dir, `steps:\n${body.join('\n')}\n`, 'long');
    const probe =
      'import v8 from "node:v8";process.on("exit",()=>process.stderr.write("young "+v8.getHeapSpaceStatistics().find(s=>s.space_name==="new_space").space_size+"\\n"))';
    const r = spawnSync(
      process.execPath,
      [`--import=data:text/javascript,${probe}`, cli, 'validate', runbook],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(r.status, 0, r.stderr);
    return Number(/young (\d+)/.exec(r.stderr)?.[1]) / 2 ** 20;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const [name, cli] of [
  ['bin/drillbook.js (npm run build first)', async () => resolve('bin/drillbook.js')],
  ['the CLI from source that tests and benches start', cliBundle],
] as const) {
  test(`${name}: the young generation stays at its initial size while a long runbook is checked`, async () => {
    // V8's default lets it grow to 3 x 16 MB under this allocation (32 MB measured with Node 20).
    const mb = await youngGenerationMb(await cli(), 5000);
    assert.ok(mb <= 4, `young generation ${mb.toFixed(1)} MB`);
  });
}
