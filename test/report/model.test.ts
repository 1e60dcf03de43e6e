// The report model from recorded journals: identity, steps against budgets, approvals apart,
// rollback, drill figures against objectives; and report.json against its schema.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { RunEvent } from '../../src/engine/events.js';
import { readJournal, type Journal } from '../../src/engine/journal.js';
import { buildReport, summarizeOutput } from '../../src/report/model.js';
import { createAjv } from '../../src/runbook/validators.js';
import { FIXTURES, fixtureReport } from './fixtures.js';

const validate = createAjv().compile(JSON.parse(readFileSync('schemas/report.schema.json', 'utf8')));

describe('report model', () => {
  test('a succeeded run: identity, steps with budgets, the approval wait counted apart', () => {
    const r = fixtureReport('succeeded');
    assert.equal(r.run.id, '20250301-101500-pg-failover-a1b2');
    assert.equal(r.run.status, 'succeeded');
    assert.deepEqual(r.environment, { name: 'lab', label: 'staging' });
    assert.equal(r.runbook.name, 'pg-failover');
    assert.equal(r.rto.objectiveMs, 300_000);
    assert.equal(r.rto.met, true);
    assert.deepEqual(
      r.steps.map((s) => [s.id, s.status]),
      [
        ['verify-primary-down', 'succeeded'],
        ['approve', 'succeeded'],
        ['pick', 'succeeded'],
        ['promote', 'succeeded'],
        ['route', 'succeeded'],
        ['validate', 'succeeded'],
      ],
    );
    const approve = r.steps.find((s) => s.id === 'approve')!;
    assert.equal(approve.waitMs, 42_000);
    assert.equal(r.approvalWaitMs, 42_000);
    assert.deepEqual(r.approvals[0], {
      stepId: 'approve',
      message: 'Promote a replica of lab?',
      requestedAtMs: 3136,
      outcome: 'granted',
      by: 'lead@laptop',
      waitMs: 42_000,
    });
    const validateStep = r.steps.find((s) => s.id === 'validate')!;
    assert.ok(validateStep.outputs.note!.length <= 160, 'outputs are summarized');
    assert.equal(r.steps[0]!.startAtMs, 10);
    assert.equal(r.budgetMisses.length, 0);
    assert.deepEqual(validate(r) ? [] : validate.errors, []);
  });

  test('a failed run: retries, budget misses with the final time, rollback, warnings', () => {
    const r = fixtureReport('failed');
    assert.equal(r.run.status, 'failed');
    assert.equal(r.run.failedStep, 'promote');
    const promote = r.steps.find((s) => s.id === 'promote')!;
    assert.equal(promote.status, 'failed');
    assert.equal(promote.attempts, 2);
    assert.equal(promote.attemptErrors.length, 2);
    assert.ok(promote.overBudget);
    assert.deepEqual(
      r.budgetMisses.map((m) => [m.stepId, m.elapsedMs]),
      [
        ['verify-primary-down', 24_300],
        ['promote', 11_002],
      ],
    );
    assert.equal(r.rollback?.failedStep, 'promote');
    assert.deepEqual(
      r.steps.filter((s) => s.phase === 'rollback').map((s) => [s.id, s.status]),
      [
        ['tell', 'succeeded'],
        ['reroute', 'succeeded'],
      ],
    );
    assert.deepEqual(
      r.steps.filter((s) => s.status === 'not-run').map((s) => s.id),
      ['route', 'validate'],
    );
    assert.deepEqual(r.warnings, ['coordination lock session lost: etcd unreachable']);
    assert.deepEqual(validate(r) ? [] : validate.errors, []);
  });

  test('a drill: fault, probe, outage and promotion on the run’s timeline, figures against objectives', () => {
    const r = fixtureReport('drill');
    const d = r.drill!;
    assert.equal(d.name, 'monthly-failover');
    assert.equal(d.verdict, 'fail');
    assert.equal(d.fault.atMs, 2000);
    assert.ok(d.fault.reverted);
    assert.deepEqual(d.rto, { objective: 30_000, actual: 5195, met: true });
    assert.deepEqual(d.rpo, { objective: 0, actual: 1, met: false });
    assert.deepEqual(d.probe.outage, { fromAtMs: 2030, toAtMs: 7225 - 30 });
    assert.equal(d.probe.writesAcked, 95);
    assert.equal(d.phases.find((p) => p.phase === 'promote')?.met, false);
    assert.equal(d.restore?.status, 'succeeded');
    assert.deepEqual(validate(r) ? [] : validate.errors, []);
  });

  test('a resumed run: the new process’s clock is placed by wall time; an unfinished drill is incomplete', () => {
    const { header } = readJournal(FIXTURES.succeeded);
    const at = (ms: number) => new Date(Date.parse('2025-03-01T10:15:00.000Z') + ms).toISOString();
    const started = (ts: string, t: number): RunEvent => ({
      type: 'step-started',
      stepId: 'a',
      kind: 'wait',
      phase: 'main',
      input: {},
      attempts: 1,
      runId: header.runId,
      ts,
      t,
    });
    const journal: Journal = {
      header,
      events: [
        {
          type: 'drill-started',
          drill: { name: 'd', path: 'd.yaml' },
          fault: { kind: 'freeze', node: 'pg1' },
          objectives: { rtoMs: 1000, rpoRows: 0 },
          probe: { route: 'router main', intervalMs: 50 },
          runId: header.runId,
          ts: at(0),
          t: 0,
        },
        started(at(100), 100),
        // The process died; resumed 60 s later in a new process whose clock starts at 0.
        {
          type: 'run-resumed',
          runId: header.runId,
          operator: 'other@host',
          restored: [],
          ts: at(60_000),
          t: 5,
        },
        started(at(60_010), 15),
        {
          type: 'step-finished',
          stepId: 'a',
          phase: 'main',
          status: 'succeeded',
          durationMs: 20,
          waitMs: 0,
          attempts: 1,
          outputs: { big: { x: 'y'.repeat(500) } },
          runId: header.runId,
          ts: at(60_030),
          t: 35,
        },
      ],
    };
    const r = buildReport(journal);
    assert.equal(r.run.status, 'incomplete');
    assert.equal(r.run.resumes, 1);
    assert.deepEqual(r.run.operators, ['sre@bastion', 'other@host']);
    assert.equal(r.steps[0]!.startAtMs, 60_010);
    assert.equal(r.spanMs, 60_030);
    assert.equal(r.drill?.verdict, 'incomplete');
    assert.equal(r.drill?.rto.met, false);
    assert.deepEqual(validate(r) ? [] : validate.errors, []);
  });

  test('outputs are summarized to one line', () => {
    assert.equal(summarizeOutput('pg2'), 'pg2');
    assert.equal(summarizeOutput({ a: 1 }), '{"a":1}');
    assert.equal(summarizeOutput('x'.repeat(500)).length, 160);
  });
});
