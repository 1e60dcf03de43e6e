// Each semantic rule on its own, with the smallest document that shows it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions } from '../../src/actions/registry.js';
import { checkSchema } from '../../src/runbook/load.js';
import { budgetTotal } from '../../src/runbook/rules/budget-total.js';
import { drillFiles } from '../../src/runbook/rules/drill-files.js';
import { drillStaging } from '../../src/runbook/rules/drill-staging.js';
import { durations } from '../../src/runbook/rules/durations.js';
import { executors } from '../../src/runbook/rules/executors.js';
import { expressions } from '../../src/runbook/rules/expressions.js';
import { inventoryConsistency } from '../../src/runbook/rules/inventory-consistency.js';
import { inventoryTargets } from '../../src/runbook/rules/inventory-targets.js';
import type { Rule, RuleContext } from '../../src/runbook/rules/types.js';
import { uniqueStepIds } from '../../src/runbook/rules/unique-step-ids.js';
import { loadInventory } from '../../src/runbook/check.js';
import { parseSource } from '../../src/runbook/source.js';
import type { Inventory } from '../../src/schema/inventory.js';

const header = 'apiVersion: drillbook/v1\nkind: Runbook\nmetadata: { name: t }\n';
const runbook = (body: string) => checkSchema(parseSource('t.yaml', header + body));
const messages = (rule: Rule, ctx: Partial<RuleContext> & Pick<RuleContext, 'doc'>) =>
  rule.check(ctx).map((f) => `${f.severity} ${f.path.join('.')}: ${f.message}`);

const inventory = loadInventory('examples/inventory.yaml');

describe('semantic rules', () => {
  it('unique-step-ids: across steps and rollback', () => {
    const doc = runbook(`steps:
  - { id: a, kind: wait, with: { duration: 1s } }
rollback:
  - { id: a, kind: wait, with: { duration: 1s } }
`);
    assert.deepEqual(messages(uniqueStepIds, { doc }), [
      'error rollback.0.id: duplicate step id "a" (first used at steps.0)',
    ]);
  });

  it('durations: positive timeouts and budgets, maxDelay not below delay', () => {
    const doc = runbook(`steps:
  - { id: a, kind: wait, budget: 0ms, timeout: 5s, retry: { attempts: 2, delay: 2s, maxDelay: 1s }, with: { duration: 1s } }
`);
    assert.deepEqual(messages(durations, { doc }), [
      'error steps.0.budget: budget must be longer than 0 (got "0ms")',
      'error steps.0.retry.maxDelay: retry.maxDelay (1s) is shorter than retry.delay (2s)',
    ]);
  });

  it('expressions: earlier outputs, declared inputs and known roots only; rollback reads main steps', () => {
    const doc = runbook(`inputs:
  reason: { type: string }
steps:
  - { id: a, kind: shell, with: { command: "echo \${{ inputs.reason }} \${{ steps.b.outputs.x }}" } }
  - { id: b, kind: shell, when: "steps.a.outputs.exitCode == 0", with: { command: "\${{ steps.a.result }}" } }
rollback:
  - { id: r, kind: notify, with: { text: "\${{ steps.b.outputs.stdout }} \${{ run.failedStep }} \${{ run.nope }}" } }
`);
    assert.deepEqual(messages(expressions, { doc }), [
      'error steps.0.with.command: step "b" has not run yet when this step runs: only earlier steps\' outputs can be read',
      'error steps.1.with.command: steps.a.result does not exist; a step has outputs, status, durationMs',
      'error rollback.0.with.text: unknown run field "nope"',
    ]);
  });

  it('budget-total: budgets above the RTO are a warning', () => {
    const doc = runbook(`objectives: { rto: 1m }
steps:
  - { id: a, kind: wait, budget: 45s, with: { duration: 1s } }
  - { id: b, kind: wait, budget: 30s, with: { duration: 1s } }
`);
    assert.deepEqual(messages(budgetTotal, { doc }), [
      'warning objectives.rto: step budgets add up to 1m15s, above objectives.rto 1m',
    ]);
  });

  it('inventory-targets: nodes, routers, records, ssh vantage points must exist in the environment', () => {
    const doc = runbook(`steps:
  - { id: a, kind: verify, with: { check: postgres, target: pg7, from: [local, ssh:pg2, ssh:bastion] } }
  - { id: b, kind: route, with: { router: edge, to: "\${{ inputs.x }}" } }
  - { id: c, kind: dns, with: { record: db, to: primary } }
`);
    const found = messages(inventoryTargets, { doc, inventory, envName: 'staging' });
    assert.equal(found.length, 3, found.join('\n'));
    assert.match(found[0]!, /steps\.0\.with\.target: unknown PostgreSQL node "pg7"/);
    assert.match(found[1]!, /steps\.0\.with\.from\.2: unknown vantage point "ssh:bastion"/);
    assert.match(found[2]!, /steps\.1\.with\.router: unknown router "edge"/);
    assert.deepEqual(messages(inventoryTargets, { doc }), [], 'nothing to check without an inventory');
  });

  it('inventory-consistency: primary, replicas, ssh hosts and zones exist', () => {
    const data = structuredClone(inventory.data) as Inventory;
    const env = data.environments.staging!;
    env.replicas = ['pg2', 'pg1'];
    env.postgres.nodes.pg3!.ssh = 'pg33';
    const doc = {
      ...checkSchema(
        parseSource(
          'i.yaml',
          'apiVersion: drillbook/v1\nkind: Inventory\nenvironments: { x: { label: staging, primary: a, replicas: [], postgres: { database: d, user: u, nodes: { a: { host: h, port: 1 } } } } }\n',
        ),
      ),
      data,
    };
    assert.deepEqual(
      messages(inventoryConsistency, { doc: doc as never }).filter((m) => m.includes('staging')),
      [
        'error environments.staging.replicas: the primary "pg1" is also listed as a replica',
        'error environments.staging.postgres.nodes.pg3.ssh: unknown SSH host "pg33" (did you mean "pg3"?); known: pg1, pg2, pg3',
      ],
    );
  });

  it('drill-staging and drill-files: staging only, files exist', () => {
    const doc = checkSchema(
      parseSource(
        'test/d.yaml',
        'apiVersion: drillbook/v1\nkind: Drill\nmetadata: { name: d }\nrunbook: ../runbooks/pg-failover.yaml\nrestore: ../runbooks/nope.yaml\nenvironment: production\nfault: { kind: freeze, target: primary, duration: 5s }\nobjectives: { rto: 10s, rpo: 0 }\n',
      ),
    );
    assert.deepEqual(messages(drillStaging, { doc, inventory }), [
      'error environment: drills run only on environments labelled staging; "production" is labelled production',
    ]);
    assert.equal(messages(drillFiles, { doc }).length, 1);
    assert.match(messages(drillFiles, { doc })[0]!, /restore file not found/);
  });

  it('executors: kinds without an executor yet are named once, as a warning', () => {
    const doc = runbook(`steps:
  - { id: a, kind: promote, with: { target: pg2 } }
  - { id: b, kind: promote, with: { target: pg3 } }
`);
    const found = messages(executors, { doc });
    if (actions.get('promote')!.run) assert.deepEqual(found, []);
    else
      assert.deepEqual(found, [
        'warning steps.0.kind: no executor yet in this version of drillbook for: promote; run will refuse this runbook',
      ]);
  });
});
