import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  evaluate,
  ExpressionError,
  findExpressions,
  parseSite,
  references,
  render,
  renderString,
} from '../../src/runbook/expressions.js';

const ctx = {
  inputs: { reason: 'disk full', n: 3 },
  env: { name: 'lab', replicas: ['pg2', 'pg3'] },
  steps: { pick: { outputs: { node: 'pg2', lag: 0 } } },
  run: { id: 'r1' },
  secrets: {},
};
const expr = (source: string) => parseSite({ source, start: 0, end: source.length + 5 });

describe('expressions', () => {
  it('finds every ${{ }} with its position', () => {
    assert.deepEqual(
      findExpressions('a ${{ x }} b ${{y}}').map((s) => [s.source, s.start, s.end]),
      [
        [' x ', 2, 10],
        ['y', 13, 19],
      ],
    );
  });

  it('an unclosed expression is an error at its start', () => {
    assert.throws(
      () => findExpressions('ok ${{ x'),
      (e: ExpressionError) => e.index === 3,
    );
  });

  it('a syntax error carries its index', () => {
    assert.throws(
      () => expr('a +'),
      (e: ExpressionError) => e instanceof ExpressionError && /after \+/.test(e.message),
    );
  });

  it('evaluates member access, comparisons, logic, ternaries and allowed functions', () => {
    assert.equal(evaluate(expr('steps.pick.outputs.node'), ctx), 'pg2');
    assert.equal(evaluate(expr('inputs.n * 2 + 1'), ctx), 7);
    assert.equal(evaluate(expr("inputs.reason == 'disk full' && !run.missing"), ctx), true);
    assert.equal(evaluate(expr("steps.pick.outputs.lag > 10 ? 'far' : 'near'"), ctx), 'near');
    assert.equal(evaluate(expr('len(env.replicas)'), ctx), 2);
    assert.equal(evaluate(expr("contains(env.replicas, 'pg3')"), ctx), true);
    assert.equal(evaluate(expr("env['name']"), ctx), 'lab');
  });

  it('never reaches prototypes or globals', () => {
    assert.equal(evaluate(expr('inputs.constructor'), ctx), undefined);
    assert.equal(evaluate(expr('inputs.__proto__'), ctx), undefined);
    assert.equal(evaluate(expr("env['constructor']"), ctx), undefined);
    assert.equal(evaluate(expr('process'), ctx), undefined);
    assert.throws(() => expr('inputs.reason.toString()'), /only these functions/);
    assert.throws(() => expr('x => 1'), ExpressionError);
  });

  it('a lone expression keeps its type; mixed text interpolates', () => {
    assert.deepEqual(renderString('${{ env.replicas }}', ctx), ['pg2', 'pg3']);
    assert.equal(renderString('to ${{ steps.pick.outputs.node }} (${{ inputs.n }})', ctx), 'to pg2 (3)');
    assert.deepEqual(render({ a: ['${{ inputs.n }}', 'x'], b: true }, ctx), { a: [3, 'x'], b: true });
  });

  it('lists the context paths an expression reads', () => {
    assert.deepEqual(references(expr("steps.pick.outputs.node == inputs.reason ? env.name : 'x'")), [
      ['steps', 'pick', 'outputs', 'node'],
      ['inputs', 'reason'],
      ['env', 'name'],
    ]);
    assert.deepEqual(references(expr('steps[inputs.which].outputs')), [['steps'], ['inputs', 'which']]);
  });
});
