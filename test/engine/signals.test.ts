// SIGINT or SIGTERM to a run: it stops resumable (no rollback, `resume` applies the crash rules),
// exits 130 or 143 whatever the timing, and always releases its lock and writes its report.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { readJournal } from '../../src/engine/journal.js';
import { runCli, startCli, tempDir, writeFiles } from './helpers.js';

const lines = (file: string) =>
  existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];

function setup(t: Parameters<typeof tempDir>[0]) {
  const dir = tempDir(t);
  const out = join(dir, 'out.txt');
  const files = writeFiles(
    dir,
    `steps:
  - { id: s0, kind: shell, with: { command: "echo s0 >> ${out}" } }
  - { id: s1, kind: shell, with: { command: "echo s1 >> ${out}; sleep 30" } }
  - { id: s2, kind: shell, with: { command: "echo s2 >> ${out}" } }
rollback:
  - { id: undo, kind: shell, with: { command: "echo undo >> ${out}" } }
`,
  );
  return { dir, out, files, state: join(dir, '.drillbook') };
}

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  test(`one ${signal}: exit ${code}, no rollback, lock released, report written, resumable`, async (t) => {
    const { dir, out, files, state } = setup(t);
    const runId = `sig-${signal}`;
    const run = await startCli(
      t,
      ['run', files.runbook, '--env', 'test', '-i', files.inventory, '--run-id', runId],
      {
        cwd: dir,
      },
    );
    while (!lines(out).includes('s1') && run.child.exitCode === null) await sleep(20);
    run.child.kill(signal);
    const done = await run.done;
    assert.equal(done.code, code, done.stderr);
    assert.deepEqual(lines(out), ['s0', 's1'], 'no rollback, nothing after the stopped step');
    assert.deepEqual(readdirSync(join(state, 'locks')), [], 'lock released');
    assert.equal(readdirSync(join(dir, 'reports')).length, 1, 'report written');
    const events = readJournal(join(state, 'runs', runId, 'journal.jsonl')).events;
    assert.ok(!events.some((e) => e.type === 'run-finished'), 'not finished: resumable');

    // The crash rules: s1 (not idempotent) was in flight, so the operator decides.
    const refused = await runCli(t, ['resume', runId], { cwd: dir });
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /step s1 \(shell\) was in flight/);
    const resumed = await runCli(t, ['resume', runId, '--skip-interrupted'], { cwd: dir });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(lines(out), ['s0', 's1', 's2']);
  });
}

test('two signals at any moment: always 143, the lock released and a report written', async (t) => {
  for (let trial = 0; trial < 8; trial++) {
    const { dir, out, files, state } = setup(t);
    const run = await startCli(t, ['run', files.runbook, '--env', 'test', '-i', files.inventory], {
      cwd: dir,
    });
    // From the start of the run to the middle of s1, the second signal 0-40 ms after the first.
    if (trial % 2) while (!lines(out).includes('s1') && run.child.exitCode === null) await sleep(10);
    else while (!existsSync(join(state, 'runs')) && run.child.exitCode === null) await sleep(5);
    run.child.kill('SIGTERM');
    await sleep(trial * 5);
    run.child.kill('SIGTERM');
    const done = await run.done;
    const why = `trial ${trial}: ${done.stderr}`;
    assert.equal(done.code, 143, why);
    assert.deepEqual(readdirSync(join(state, 'locks')), [], why);
    assert.equal(readdirSync(join(dir, 'reports')).length, 1, why);
  }
});
