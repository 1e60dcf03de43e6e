// kill -9 at random points, then resume: a finished step is never repeated, and a step that was in
// flight (not idempotent) is never re-run without the operator saying so.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { readJournal } from '../../src/engine/journal.js';
import { cliBundle, runCli, startCli, tempDir, writeFiles } from './helpers.js';

const TRIALS = 20;
const STEPS = 5;
const PARALLEL = 5;

/** mulberry32: a small seeded PRNG, so a failing trial can be replayed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const lines = (file: string) =>
  existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];

test(`crash safety: ${TRIALS} runs killed with SIGKILL at random points and resumed`, async (t) => {
  await cliBundle();
  const seed = Number(process.env.CRASH_SEED ?? 20260401);
  const random = prng(seed);
  const seen = { refused: 0, resumed: 0 };
  const delays = Array.from({ length: TRIALS }, () => random() * 350);
  // Trials are independent (own directory, own run): a few at a time keeps the suite fast.
  const trial = async (trial: number) => {
    const dir = tempDir(t);
    const out = join(dir, 'out.txt');
    const steps = Array.from(
      { length: STEPS },
      (_, i) => `  - { id: s${i}, kind: shell, with: { command: "echo s${i} >> ${out}; sleep 0.03" } }`,
    );
    const files = writeFiles(dir, `steps:\n${steps.join('\n')}\n`);
    const runId = `crash-${trial}`;
    const why = `seed ${seed}, trial ${trial}`;
    const run = await startCli(
      t,
      ['run', files.runbook, '--env', 'test', '-i', files.inventory, '--run-id', runId],
      { cwd: dir },
    );
    const journalFile = join(dir, '.drillbook/runs', runId, 'journal.jsonl');
    // Start-up takes a while; the random point is taken from when the run's journal exists.
    while (!existsSync(journalFile) && run.child.exitCode === null) await sleep(5);
    await sleep(delays[trial]!);
    run.child.kill('SIGKILL');
    await run.done;
    await sleep(60); // a shell the dead run had started may still be finishing
    if (!existsSync(journalFile)) {
      assert.deepEqual(lines(out), [], `${why}: no journal, so nothing may have run`);
      return;
    }
    let resumed = await runCli(t, ['resume', runId], { cwd: dir });
    if (resumed.code === 2 && /already finished/.test(resumed.stderr)) return; // killed after the end
    if (resumed.code === 2) {
      // Refused: the step in flight is not idempotent. It must not have been re-run.
      const inFlight = /step (s\d) \(shell\) was in flight/.exec(resumed.stderr)?.[1];
      assert.ok(inFlight, `${why}: ${resumed.stderr}`);
      seen.refused++;
      assert.ok(lines(out).filter((l) => l === inFlight).length <= 1, `${why}: ${inFlight} repeated`);
      resumed = await runCli(t, ['resume', runId, '--skip-interrupted'], { cwd: dir });
    }
    assert.equal(resumed.code, 0, `${why}: ${resumed.stderr}`);
    seen.resumed++;
    const events = readJournal(journalFile).events;
    const finished = new Set(
      events.flatMap((e) => (e.type === 'step-finished' && e.status === 'succeeded' ? [e.stepId] : [])),
    );
    for (let i = 0; i < STEPS; i++) {
      const count = lines(out).filter((l) => l === `s${i}`).length;
      if (finished.has(`s${i}`)) assert.equal(count, 1, `${why}: s${i} finished, its line must appear once`);
      else assert.ok(count <= 1, `${why}: s${i} appears ${count} times`);
    }
    assert.equal(events.at(-1)?.type, 'run-finished', why);
  };
  for (let first = 0; first < TRIALS; first += PARALLEL) {
    await Promise.all(Array.from({ length: Math.min(PARALLEL, TRIALS - first) }, (_, i) => trial(first + i)));
  }
  // The seed must exercise both paths: a refused in-flight step and resumed runs.
  assert.ok(seen.refused > 0 && seen.resumed > 0, JSON.stringify(seen));
  t.diagnostic(`seed ${seed}: ${JSON.stringify(seen)}`);
});
