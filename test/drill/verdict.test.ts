// The verdict, the phases and the closing summary of a drill, from figures and events alone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunEvent } from '../../src/engine/events.js';
import type { DrillFigures } from '../../src/schema/drill-outcome.js';
import { drillPhases } from '../../src/drill/failover-phases.js';
import { formatOutcome } from '../../src/drill/summary.js';
import { drillVerdict } from '../../src/drill/verdict.js';
import { checkSchema } from '../../src/runbook/load.js';
import { parseSource } from '../../src/runbook/source.js';
import type { Runbook } from '../../src/runbook/schema.js';

const figures = (over: Partial<DrillFigures> = {}): DrillFigures => ({
  rtoMs: 1500,
  longestGapMs: 1500,
  writesSent: 100,
  writesAcked: 90,
  writesFailed: 10,
  rpoRows: 0,
  lostSeqs: [],
  splitBrainWrites: 0,
  faultAt: 1000,
  ...over,
});
const objectives = { rtoMs: 3000, rpoRows: 0 };

describe('drill verdict', () => {
  it('passes when the run succeeded and every objective is met', () => {
    assert.deepEqual(drillVerdict({ runSucceeded: true, figures: figures(), objectives }), {
      verdict: 'pass',
      reasons: [],
    });
  });

  it('fails with one reason per missed objective', () => {
    const v = drillVerdict({
      runSucceeded: false,
      runError: 'promote: timeout',
      figures: figures({ rtoMs: 4000, rpoRows: 2, splitBrainWrites: 1 }),
      objectives,
    });
    assert.equal(v.verdict, 'fail');
    assert.deepEqual(v.reasons, [
      'the runbook failed: promote: timeout',
      'RTO 4.00s missed the objective 3.00s',
      'RPO 2 acknowledged row(s) lost, objective 0',
      'split brain: the old primary acknowledged 1 write(s) after the promotion',
    ]);
    assert.match(
      drillVerdict({ runSucceeded: true, figures: figures({ rtoMs: undefined }), objectives }).reasons[0]!,
      /never wrote again/,
    );
  });

  it('a drill that causes a split brain on purpose passes with one and fails without', () => {
    const expected = { ...objectives, splitBrainExpected: true };
    assert.deepEqual(
      drillVerdict({ runSucceeded: true, figures: figures({ splitBrainWrites: 3 }), objectives: expected }),
      { verdict: 'pass', reasons: [] },
    );
    assert.deepEqual(drillVerdict({ runSucceeded: true, figures: figures(), objectives: expected }), {
      verdict: 'fail',
      reasons: [
        'no split brain: the drill causes one on purpose, but the old primary acknowledged no write after the promotion',
      ],
    });
  });

  it('an abort is its own verdict', () => {
    assert.deepEqual(
      drillVerdict({
        runSucceeded: false,
        aborted: 'stopped: maxDuration 1m reached',
        figures: figures(),
        objectives,
      }),
      {
        verdict: 'aborted',
        reasons: ['stopped: maxDuration 1m reached'],
      },
    );
  });

  it('phases sum their steps against their budgets, approval waits apart', () => {
    const runbook = checkSchema(
      parseSource(
        'r.yaml',
        `apiVersion: drillbook/v1
kind: Runbook
metadata: { name: r }
steps:
  - { id: a, kind: wait, phase: detect, budget: 1s, with: { duration: 0ms } }
  - { id: b, kind: approve, phase: decide, budget: 100ms, with: { message: go? } }
  - { id: c, kind: wait, phase: decide, budget: 100ms, with: { duration: 0ms } }
`,
      ),
    ).data as Runbook;
    const finished = (stepId: string, durationMs: number, waitMs = 0) =>
      ({
        type: 'step-finished',
        stepId,
        phase: 'main',
        status: 'succeeded',
        durationMs,
        waitMs,
        attempts: 1,
        outputs: {},
        ts: '',
        t: 0,
      }) as RunEvent;
    const phases = drillPhases(runbook, [finished('a', 1200), finished('b', 5050, 5000), finished('c', 20)]);
    assert.deepEqual(phases, [
      { phase: 'detect', steps: ['a'], durationMs: 1200, waitMs: 0, budgetMs: 1000, met: false },
      { phase: 'decide', steps: ['b', 'c'], durationMs: 5070, waitMs: 5000, budgetMs: 200, met: true },
    ]);
  });

  it('the summary gives RTO and RPO against objectives', () => {
    const text = formatOutcome({
      runId: 'r1',
      verdict: 'pass',
      exitCode: 0,
      objectives,
      figures: figures({ rpoBytes: 0 }),
      reasons: [],
    });
    assert.equal(
      text,
      [
        'drill r1: PASS',
        '  RTO (client-observed): 1.50s (objective 3.00s)',
        '  RPO: 0 acknowledged row(s) lost (objective 0), 0 bytes of WAL past the promotion point',
        '  split-brain writes: 0; probe writes: 90 acknowledged, 10 failed',
      ].join('\n'),
    );
  });

  it('a drill measured to its recovered data says so, and when there was none', () => {
    const text = formatOutcome({
      runId: 'r2',
      verdict: 'fail',
      exitCode: 1,
      objectives,
      figures: figures({ rtoMs: undefined, rtoBasis: 'recovery' }),
    });
    assert.match(
      text,
      /^ {2}RTO \(data recovered and verified\): none: the data was never recovered \(objective 3\.00s\)$/m,
    );
  });
});
