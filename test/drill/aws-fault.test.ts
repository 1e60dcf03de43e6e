// The aws drill fault: an RDS API call as the fault. Stand-in: aws-sdk-client-mock replaces
// RDSClient's `send` (no AWS, no network) and records the call. The drill file's checks run on the
// real loader (checkFile), without an inventory.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, test } from 'node:test';
import { FailoverDBClusterCommand, InvalidDBClusterStateFault, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { faults } from '../../src/drill/faults/index.js';
import type { FaultContext } from '../../src/drill/faults/types.js';
import { probeRoute } from '../../src/drill/probe-route.js';
import { StepFailure } from '../../src/errors.js';
import { checkFile } from '../../src/runbook/check.js';
import { cloudEnvironment } from '../actions/cloud-env.js';

const rdsMock = mockClient(RDSClient);
afterEach(() => rdsMock.reset());
const tmp = mkdtempSync(join(tmpdir(), 'drillbook-aws-fault-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const ctx = (options: FaultContext['options']): FaultContext & { logs: string[] } => {
  const logs: string[] = [];
  return {
    env: { ...cloudEnvironment, name: 'staging' },
    node: 'writer',
    secret: async () => '',
    log: (m) => logs.push(m),
    options,
    logs,
  };
};

describe('drill fault aws', () => {
  test('rds.failover-cluster calls FailoverDBCluster on the cluster and target, and strikes when the call returned', async () => {
    rdsMock.on(FailoverDBClusterCommand).resolves({ DBCluster: { Status: 'failing-over' } });
    const before = performance.now();
    const c = ctx({ action: 'rds.failover-cluster', cluster: 'orders', targetInstance: 'orders-2' });
    const injected = await faults.get('aws')!.inject(c);
    assert.ok(injected.at >= before);
    assert.deepEqual(rdsMock.commandCalls(FailoverDBClusterCommand)[0]!.args[0].input, {
      DBClusterIdentifier: 'orders',
      TargetDBInstanceIdentifier: 'orders-2',
    });
    assert.deepEqual(c.logs, ['rds eu-west-1: failover of DB cluster orders to orders-2 started']);
    assert.match(await faults.get('aws')!.revert(c), /nothing to undo/);
  });

  test('a cluster that cannot fail over now fails the fault with the AWS code', async () => {
    rdsMock
      .on(FailoverDBClusterCommand)
      .rejects(
        new InvalidDBClusterStateFault({ message: 'Cluster is busy.', $metadata: { httpStatusCode: 400 } }),
      );
    await assert.rejects(
      faults.get('aws')!.inject(ctx({ action: 'rds.failover-cluster', cluster: 'orders' })),
      (e: unknown) =>
        e instanceof StepFailure &&
        e.message ===
          'rds eu-west-1: FailoverDBCluster orders failed: InvalidDBClusterStateFault: Cluster is busy. (HTTP 400)',
    );
  });

  test('the probe can write straight to the cluster endpoint (via: node)', () => {
    const route = probeRoute(
      { ...cloudEnvironment, name: 'staging' },
      { via: 'node', node: 'writer' },
      async () => '',
    );
    assert.equal(route.description, 'node writer (orders.cluster-abc.eu-west-1.rds.amazonaws.com:5432)');
  });

  test('a drill with an aws fault but no cluster is refused at validate, located at the fault', () => {
    const file = join(tmp, 'drill.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: drillbook/v1',
        'kind: Drill',
        'metadata: { name: rds-failover }',
        'runbook: runbook.yaml',
        'environment: staging',
        'fault: { kind: aws, action: rds.failover-cluster, target: primary }',
        'probe: { via: node }',
        'objectives: { rto: 60s, rpo: 0 }',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(tmp, 'runbook.yaml'),
      'apiVersion: drillbook/v1\nkind: Runbook\nmetadata: { name: r }\nsteps:\n  - { id: w, kind: wait, with: { duration: 1s } }\n',
    );
    const { errors } = checkFile(file);
    const err = errors.find((e) => e.message.includes('aws'));
    assert.ok(err, errors.map((e) => e.format()).join('\n'));
    assert.equal(err.message, 'fault kind aws needs cluster (the DB cluster identifier)');
    assert.equal(err.location?.line, 6);
  });
});
