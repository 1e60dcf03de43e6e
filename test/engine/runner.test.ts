import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StepFailure, UserError } from '../../src/errors.js';
import { ofType, runInProcess, withFakes } from './helpers.js';

test('steps run in order, `when` skips, outputs feed later steps', async (t) => {
  const { result, events } = await runInProcess(
    t,
    `inputs: { who: { type: string, default: lab } }
steps:
  - { id: a, kind: shell, with: { command: "echo one-\${{ inputs.who }}" } }
  - { id: b, kind: wait, when: "steps.a.outputs.stdout == 'nope'", with: { duration: 0ms } }
  - { id: c, kind: shell, with: { command: "echo \${{ steps.a.outputs.stdout }}-two" } }
`,
  );
  assert.equal(result.status, 'succeeded');
  assert.deepEqual(
    events.filter((e) => 'stepId' in e).map((e) => `${e.type}:${(e as { stepId: string }).stepId}`),
    [
      'step-started:a',
      'child-started:a', // the shell's process, journaled for a resume after a crash
      'step-finished:a',
      'step-skipped:b',
      'step-started:c',
      'child-started:c',
      'step-finished:c',
    ],
  );
  assert.equal(ofType(events, 'step-finished')[1]!.outputs.stdout, 'one-lab-two');
  assert.deepEqual(ofType(events, 'run-finished')[0]!.status, 'succeeded');
});

test('retries only failures the action marks retryable, with the configured attempts', async (t) => {
  let calls = 0;
  const flaky = withFakes({
    shell: {
      run: async (_ctx, input) => {
        calls++;
        if ((input as { command: string }).command === 'retryable')
          throw new StepFailure('busy', { retryable: true });
        throw new StepFailure('broken');
      },
    },
  });
  const body = (cmd: string) => `steps:
  - { id: s, kind: shell, retry: { attempts: 3, delay: 1ms, factor: 2 }, with: { command: ${cmd} } }
`;
  const retried = await runInProcess(t, body('retryable'), { actions: flaky });
  assert.equal(calls, 3);
  assert.deepEqual(
    ofType(retried.events, 'step-attempt-failed').map((e) => [e.attempt, e.willRetry, e.delayMs]),
    [
      [1, true, 1],
      [2, true, 2],
      [3, false, undefined],
    ],
  );
  assert.equal(ofType(retried.events, 'step-finished')[0]!.attempts, 3);
  calls = 0;
  const notRetried = await runInProcess(t, body('fatal'), { actions: flaky });
  assert.equal(calls, 1);
  assert.equal(notRetried.result.status, 'failed');
});

test('a timeout stops an attempt even when the action ignores its signal, and is retryable', async (t) => {
  let calls = 0;
  const hang = withFakes({ shell: { run: () => (calls++, new Promise(() => undefined)) } });
  const start = performance.now();
  const { result, events } = await runInProcess(
    t,
    `steps:
  - { id: h, kind: shell, timeout: 50ms, retry: { attempts: 2, delay: 1ms }, with: { command: x } }
`,
    { actions: hang },
  );
  assert.ok(performance.now() - start < 1000);
  assert.equal(calls, 2);
  assert.equal(result.status, 'failed');
  assert.match(ofType(events, 'step-finished')[0]!.error!, /timed out after 50ms/);
});

test('retry.nonRetryable: a retryable failure whose code the step lists is not retried', async (t) => {
  let calls = 0;
  const refused = withFakes({
    shell: {
      run: async () => {
        calls++;
        throw new StepFailure('connection refused', { retryable: true, code: 'ECONNREFUSED' });
      },
    },
  });
  const body = (never: string) => `steps:
  - { id: s, kind: shell, retry: { attempts: 3, delay: 1ms, nonRetryable: [${never}] }, with: { command: x } }
`;
  const listed = await runInProcess(t, body('timeout, ECONNREFUSED'), { actions: refused });
  assert.equal(calls, 1);
  assert.equal(listed.result.status, 'failed');
  assert.deepEqual(
    ofType(listed.events, 'step-attempt-failed').map((e) => [e.retryable, e.willRetry]),
    [[true, false]],
  );
  calls = 0;
  await runInProcess(t, body('57P03'), { actions: refused });
  assert.equal(calls, 3, 'a code not listed is retried as before');
});

test('retry.nonRetryable: [timeout] stops at the first timed-out attempt', async (t) => {
  let calls = 0;
  const hang = withFakes({ shell: { run: () => (calls++, new Promise(() => undefined)) } });
  const { result } = await runInProcess(
    t,
    `steps:
  - { id: h, kind: shell, timeout: 30ms, retry: { attempts: 3, delay: 1ms, nonRetryable: [timeout] }, with: { command: x } }
`,
    { actions: hang },
  );
  assert.equal(calls, 1);
  assert.equal(result.status, 'failed');
});

test('continueOnError records the failure and goes on', async (t) => {
  const { result, events } = await runInProcess(
    t,
    `steps:
  - { id: bad, kind: shell, continueOnError: true, with: { command: "exit 3" } }
  - { id: next, kind: wait, with: { duration: 0ms } }
`,
  );
  assert.equal(result.status, 'succeeded');
  const [bad] = ofType(events, 'step-finished');
  assert.equal(bad!.status, 'failed');
  assert.equal(bad!.continued, true);
  assert.ok(!events.some((e) => e.type === 'rollback-started'));
});

test('rollback: every step is attempted, with run.failedStep and run.error in context', async (t) => {
  const { result, events } = await runInProcess(
    t,
    `steps:
  - { id: ok, kind: wait, with: { duration: 0ms } }
  - { id: boom, kind: shell, with: { command: "echo kaput >&2; exit 4" } }
  - { id: never, kind: wait, with: { duration: 0ms } }
rollback:
  - { id: r1, kind: shell, with: { command: "exit 1" } }
  - { id: r2, kind: shell, with: { command: "echo \${{ run.failedStep }}: \${{ run.error }}" } }
`,
  );
  assert.equal(result.status, 'failed');
  assert.equal(result.failedStep, 'boom');
  assert.ok(result.error instanceof StepFailure);
  const rb = ofType(events, 'rollback-started')[0]!;
  assert.equal(rb.failedStep, 'boom');
  const finished = ofType(events, 'step-finished');
  assert.deepEqual(
    finished.map((e) => [e.stepId, e.status]),
    [
      ['ok', 'succeeded'],
      ['boom', 'failed'],
      ['r1', 'failed'],
      ['r2', 'succeeded'],
    ],
  );
  assert.equal(finished[3]!.outputs.stdout, 'boom: command exited with code 4: kaput');
  assert.ok(!events.some((e) => 'stepId' in e && e.stepId === 'never'));
});

test('budget and RTO misses are events, never aborts', async (t) => {
  const { result, events } = await runInProcess(
    t,
    `objectives: { rto: 20ms }
steps:
  - { id: slow, kind: wait, budget: 10ms, with: { duration: 60ms } }
  - { id: after, kind: wait, with: { duration: 0ms } }
`,
  );
  assert.equal(result.status, 'succeeded');
  const [miss] = ofType(events, 'budget-exceeded');
  assert.equal(miss!.stepId, 'slow');
  assert.ok(miss!.elapsedMs >= 10);
  assert.equal(ofType(events, 'rto-exceeded').length, 1);
  const end = ofType(events, 'run-finished')[0]!;
  assert.equal(end.rtoMet, false);
  // The budget miss is reported while the step runs, before it finishes.
  assert.ok(
    events.findIndex((e) => e.type === 'budget-exceeded') <
      events.findIndex((e) => e.type === 'step-finished'),
  );
});

test('rendered input is validated against the kind schema: a user error naming the step', async (t) => {
  const { result } = await runInProcess(
    t,
    `inputs: { n: { type: number, default: 5 } }
steps:
  - { id: pick, kind: sql, with: { target: "\${{ inputs.n }}", query: "select 1" } }
`,
  );
  assert.ok(result.error instanceof UserError);
  assert.match(result.error.message, /step pick: invalid input after rendering: with.target/);
});

test('expressions in SQL text become bound parameters: sql, verify, pitr expect and copyBack.where', async (t) => {
  const seen: Record<string, unknown> = {};
  const capture = (kind: string) => ({
    run: async (_ctx: unknown, input: unknown) => {
      seen[kind] = input;
      return {};
    },
  });
  const evil = "x'; CREATE TABLE pwned(); SELECT 1 --";
  const { result } = await runInProcess(
    t,
    `inputs: { n: { type: string, default: x }, k: { type: number, default: 3 } }
steps:
  - { id: q, kind: sql, with: { target: primary, query: "select \${{ inputs.n }}::text, $1, \${{ inputs.k }}", params: [first] } }
  - { id: v, kind: verify, with: { check: sql, target: primary, query: "select \${{ inputs.n }} = 'x'", equals: true } }
  - id: p
    kind: pitr
    with:
      storage: { type: local, path: /nowhere }
      archive: /nowhere
      target: { name: "\${{ inputs.n }}" }
      expect: [{ query: "select count(*) from t where a = \${{ inputs.n }}", equals: 1 }]
      copyBack: { table: t, where: "a = \${{ inputs.n }} and b < \${{ inputs.k }}" }
`,
    {
      inputs: { n: evil },
      actions: withFakes({ sql: capture('sql'), verify: capture('verify'), pitr: capture('pitr') }),
    },
  );
  assert.equal(result.status, 'succeeded', String(result.error?.message));
  assert.deepEqual(seen.sql, {
    target: 'primary',
    query: 'select $2::text, $1, $3',
    params: ['first', evil, 3],
  });
  const v = seen.verify as { query: string; params: unknown[] };
  assert.deepEqual([v.query, v.params], ["select $1 = 'x'", [evil]]);
  const p = seen.pitr as {
    target: { name: string };
    expect: { query: string; params: unknown[] }[];
    copyBack: { where: string; params: unknown[] };
  };
  // Other fields are rendered as text, as before.
  assert.equal(p.target.name, evil);
  assert.deepEqual(p.expect[0], { query: 'select count(*) from t where a = $1', params: [evil], equals: 1 });
  assert.deepEqual(p.copyBack, { table: 't', where: 'a = $1 and b < $2', params: [evil, 3] });
});

test('approvals: pre-approved by flag, refused without a terminal, wait time recorded apart', async (t) => {
  const body = `steps:
  - { id: go, kind: approve, with: { message: "Promote?" } }
`;
  const pre = await runInProcess(t, body, { approvals: { steps: new Set(['go']) } });
  assert.equal(pre.result.status, 'succeeded');
  assert.equal(ofType(pre.events, 'approval-granted')[0]!.by, '--approve go');

  const none = await runInProcess(t, body, { approvals: {} });
  assert.equal(none.result.status, 'failed');
  assert.match(String(none.result.error?.message), /no terminal to ask on: pass --approve go/);

  const asked = await runInProcess(t, body, {
    approvals: {
      ask: () => new Promise((r) => setTimeout(() => r({ approved: true, by: 'alice@box' }), 40)),
    },
  });
  const done = ofType(asked.events, 'step-finished')[0]!;
  assert.equal(done.outputs.approvedBy, 'alice@box');
  assert.ok(done.waitMs >= 35 && done.waitMs <= done.durationMs, `waitMs ${done.waitMs}`);

  const denied = await runInProcess(t, body, {
    approvals: { ask: async () => ({ approved: false, by: 'bob' }) },
  });
  assert.match(String(denied.result.error?.message), /not approved by bob/);
  assert.equal(ofType(denied.events, 'approval-denied').length, 1);
});

test('aborting the run (Ctrl-C) stops the current step, runs rollback and ends interrupted', async (t) => {
  const ac = new AbortController();
  setTimeout(() => ac.abort(new StepFailure('interrupted by the operator')), 50);
  const { result, events } = await runInProcess(
    t,
    `steps:
  - { id: long, kind: wait, with: { duration: 10s } }
  - { id: never, kind: wait, with: { duration: 0ms } }
rollback:
  - { id: undo, kind: wait, with: { duration: 0ms } }
`,
    { signal: ac.signal },
  );
  assert.equal(result.status, 'interrupted');
  assert.ok(result.durationMs < 2000);
  assert.deepEqual(
    ofType(events, 'step-finished').map((e) => [e.stepId, e.status]),
    [
      ['long', 'failed'],
      ['undo', 'succeeded'],
    ],
  );
});

test('wait until re-evaluates its condition against the run context, with a deadline', async (t) => {
  const { result, events } = await runInProcess(
    t,
    `inputs: { ready: { type: boolean, default: false } }
steps:
  - { id: w, kind: wait, with: { until: "inputs.ready", interval: 10ms, deadline: 50ms } }
`,
  );
  assert.equal(result.status, 'failed');
  assert.match(ofType(events, 'step-finished')[0]!.error!, /"inputs.ready" still false after 50ms/);
  const ok = await runInProcess(
    t,
    `inputs: { ready: { type: boolean, default: true } }
steps:
  - { id: w, kind: wait, with: { until: "inputs.ready", interval: 10ms, deadline: 50ms } }
`,
  );
  assert.equal(ok.result.status, 'succeeded');
});
