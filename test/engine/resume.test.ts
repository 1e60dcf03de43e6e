import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { actions } from '../../src/actions/registry.js';
import type { RunEvent, RunEventBody } from '../../src/engine/events.js';
import { JOURNAL_VERSION, type Journal } from '../../src/engine/journal.js';
import { resumeState } from '../../src/engine/resume.js';
import type { Runbook } from '../../src/runbook/schema.js';
import { ofType, runCli, runInProcess, tempDir, withFakes, writeFiles } from './helpers.js';

const runbook = {
  apiVersion: 'drillbook/v1',
  kind: 'Runbook',
  metadata: { name: 'r' },
  steps: [
    { id: 'a', kind: 'shell', with: { command: 'x' } },
    { id: 'b', kind: 'shell', with: { command: 'y' } },
    { id: 'c', kind: 'wait', with: { duration: '0ms' } },
    { id: 'd', kind: 'shell', with: { command: 'z', idempotent: true } },
  ],
} as unknown as Runbook;

const journal = (...bodies: RunEventBody[]): Journal => ({
  header: {
    type: 'journal',
    version: JOURNAL_VERSION,
    runId: 'r1',
    createdAt: '2030-01-01T00:00:00Z',
  } as Journal['header'],
  events: bodies.map((b) => ({ ...b, ts: '2030-01-01T00:00:00Z', t: 0 }) as RunEvent),
});
const started = (stepId: string): RunEventBody => ({
  type: 'step-started',
  stepId,
  kind: 'shell',
  phase: 'main',
  input: {},
  attempts: 1,
});
const finished = (stepId: string, outputs = {}): RunEventBody => ({
  type: 'step-finished',
  stepId,
  phase: 'main',
  status: 'succeeded',
  durationMs: 1,
  waitMs: 0,
  attempts: 1,
  outputs,
});

test('resume decisions: finished steps restored, in-flight step by idempotence, flags or alreadyDone', () => {
  const s = resumeState(journal(started('a'), finished('a', { x: 1 })), runbook, actions);
  assert.deepEqual(s.results.a?.outputs, { x: 1 });
  assert.equal(s.interrupted, undefined);
  // A non-idempotent shell step in flight: refused unless the operator decides.
  const inFlightB = journal(started('a'), finished('a'), started('b'));
  assert.throws(
    () => resumeState(inFlightB, runbook, actions),
    /step b \(shell\) was in flight .* --retry-interrupted .* --skip-interrupted/,
  );
  assert.equal(
    resumeState(inFlightB, runbook, actions, { retryInterrupted: true }).interrupted?.decision,
    'retry',
  );
  assert.equal(
    resumeState(inFlightB, runbook, actions, { skipInterrupted: true }).interrupted?.decision,
    'skip',
  );
  assert.throws(
    () => resumeState(inFlightB, runbook, actions, { retryInterrupted: true, skipInterrupted: true }),
    /exclude/,
  );
  // Idempotent kind (wait) or step (idempotent: true) is re-run; an alreadyDone check is asked first.
  assert.equal(resumeState(journal(started('c')), runbook, actions).interrupted?.decision, 'retry');
  assert.equal(resumeState(journal(started('d')), runbook, actions).interrupted?.decision, 'retry');
  const checked = withFakes({ shell: { alreadyDone: async () => undefined } });
  assert.equal(resumeState(inFlightB, runbook, checked).interrupted?.decision, 'check');
  assert.throws(
    () =>
      resumeState(
        journal(started('a'), { type: 'run-finished', status: 'succeeded', durationMs: 1 }),
        runbook,
        actions,
      ),
    /already finished \(succeeded\)/,
  );
});

test('a resumed run skips finished steps, restores their outputs, and uses alreadyDone', async (t) => {
  let ran: string[] = [];
  const fake = withFakes({
    shell: {
      run: async (ctx, input) => (ran.push(ctx.stepId), { stdout: (input as { command: string }).command }),
      alreadyDone: async () => ({ stdout: 'found in place' }),
    },
  });
  const body = `steps:
  - { id: a, kind: shell, with: { command: first } }
  - { id: b, kind: shell, with: { command: "\${{ steps.a.outputs.stdout }}-second" } }
  - { id: c, kind: shell, with: { command: "\${{ steps.b.outputs.stdout }}-third" } }
`;
  const { events } = await runInProcess(t, body, {
    actions: fake,
    resume: {
      startedAt: new Date().toISOString(),
      results: { a: { status: 'succeeded', outputs: { stdout: 'restored' } } },
      rollbackStarted: false,
      children: [],
      interrupted: { stepId: 'b', decision: 'check' },
    },
  });
  assert.deepEqual(ran, ['c']);
  const done = ofType(events, 'step-finished');
  assert.deepEqual(
    done.map((e) => [e.stepId, e.alreadyDone ?? false, e.outputs.stdout]),
    [
      ['b', true, 'found in place'],
      ['c', false, 'found in place-third'],
    ],
  );
  assert.equal(ofType(events, 'run-resumed')[0]!.restored[0], 'a');
  ran = [];
});

test('resume refuses a finished run and a runbook whose content changed', async (t) => {
  const dir = tempDir(t);
  const files = writeFiles(dir, `steps:\n  - { id: a, kind: wait, with: { duration: 0ms } }\n`);
  const run = await runCli(
    t,
    ['run', files.runbook, '--env', 'test', '-i', files.inventory, '--run-id', 'done-1'],
    { cwd: dir },
  );
  assert.equal(run.code, 0, run.stderr);
  const again = await runCli(t, ['resume', 'done-1'], { cwd: dir });
  assert.equal(again.code, 2);
  assert.match(again.stderr, /run done-1 already finished \(succeeded\)/);
  // Cut the journal back to "step a in flight", then change the runbook.
  const path = join(dir, '.drillbook/runs/done-1/journal.jsonl');
  const lines = readFileSync(path, 'utf8').split('\n');
  writeFileSync(path, lines.slice(0, 3).join('\n') + '\n');
  appendFileSync(files.runbook, '# edited\n');
  const changed = await runCli(t, ['resume', 'done-1'], { cwd: dir });
  assert.equal(changed.code, 2);
  assert.match(changed.stderr, /changed since the run started \(sha256 .* → .*\); resume refused/);
  const missing = await runCli(t, ['resume', 'nope'], { cwd: dir });
  assert.match(missing.stderr, /no such run/);
});
