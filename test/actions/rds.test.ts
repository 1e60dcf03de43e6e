// rds and aurora-global against the RDS API. Stand-in: aws-sdk-client-mock replaces RDSClient's
// `send` (no AWS, no network), answers each command as RDS documents it, and records every call:
// the tests check the order and content of the calls, the throttling retries and the failures.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import {
  DBClusterNotFoundFault,
  DescribeDBClustersCommand,
  DescribeEventsCommand,
  DescribeGlobalClustersCommand,
  FailoverDBClusterCommand,
  FailoverGlobalClusterCommand,
  InvalidDBClusterStateFault,
  RDSClient,
  RebootDBInstanceCommand,
  SwitchoverGlobalClusterCommand,
  type DescribeDBClustersCommandOutput,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
// The registry first (an import cycle through runbook/targets.ts, as in the other action tests).
import '../../src/actions/registry.js';
import { auroraGlobal } from '../../src/actions/aurora-global.js';
import { rds } from '../../src/actions/rds.js';
import { failoverEventCode } from '../../src/connectors/rds-events.js';
import { StepFailure, UserError } from '../../src/errors.js';
import { actionContext } from '../helpers/action-context.js';
import { cloudEnvironment } from './cloud-env.js';

const env = cloudEnvironment;

const rdsMock = mockClient(RDSClient);
beforeEach(() => rdsMock.reset());
afterEach(() => rdsMock.reset());

const cluster = (status: string, writer?: string): DescribeDBClustersCommandOutput => ({
  $metadata: {},
  DBClusters: [
    {
      DBClusterIdentifier: 'orders',
      Status: status,
      DBClusterMembers: ['orders-1', 'orders-2'].map((id) => ({
        DBInstanceIdentifier: id,
        IsClusterWriter: id === writer,
      })),
    },
  ],
});

const at = (iso: string) => new Date(iso);
const throttled = () =>
  Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });

/** The command names sent, in order. */
const sent = () => rdsMock.calls().map((c) => (c.args[0] as object).constructor.name);

const failureOf = async (p: Promise<unknown>): Promise<Error> => {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  assert.fail('expected a failure');
};

describe('rds: failover-cluster, reboot, wait, describe', () => {
  test('failover-cluster describes the writer, calls FailoverDBCluster with the target, reads the failover events', async () => {
    rdsMock.on(DescribeDBClustersCommand).resolves(cluster('available', 'orders-1'));
    rdsMock.on(FailoverDBClusterCommand).resolves({ DBCluster: { Status: 'failing-over' } });
    rdsMock.on(DescribeEventsCommand).resolves({
      Events: [
        { Message: 'Started cross AZ failover to DB instance: orders-2', Date: at('2026-01-01T10:00:01Z') },
        { Message: 'DB instance restarted', Date: at('2026-01-01T10:00:00Z') },
      ],
    });
    const out = await rds.run!(actionContext(env), {
      action: 'failover-cluster',
      cluster: 'orders',
      targetInstance: 'orders-2',
    });
    assert.deepEqual(sent(), [
      'DescribeDBClustersCommand',
      'FailoverDBClusterCommand',
      'DescribeEventsCommand',
    ]);
    assert.deepEqual(rdsMock.commandCalls(DescribeDBClustersCommand)[0]!.args[0].input, {
      DBClusterIdentifier: 'orders',
    });
    assert.deepEqual(rdsMock.commandCalls(FailoverDBClusterCommand)[0]!.args[0].input, {
      DBClusterIdentifier: 'orders',
      TargetDBInstanceIdentifier: 'orders-2',
    });
    const events = rdsMock.commandCalls(DescribeEventsCommand)[0]!.args[0].input;
    assert.equal(events.SourceIdentifier, 'orders');
    assert.equal(events.SourceType, 'db-cluster');
    assert.deepEqual(events.EventCategories, ['failover', 'failure']);
    assert.ok(Date.now() - events.StartTime!.getTime() < 120_000, 'events since the call');
    assert.equal(out.previousWriter, 'orders-1');
    assert.equal(out.status, 'failing-over');
    assert.deepEqual(out.events, [
      {
        at: '2026-01-01T10:00:01.000Z',
        code: 'RDS-EVENT-0073',
        phase: 'started',
        message: 'Started cross AZ failover to DB instance: orders-2',
      },
    ]);
  });

  test('failover-cluster without a target lets RDS choose (no TargetDBInstanceIdentifier)', async () => {
    rdsMock.on(DescribeDBClustersCommand).resolves(cluster('available', 'orders-1'));
    rdsMock.on(FailoverDBClusterCommand).resolves({});
    rdsMock.on(DescribeEventsCommand).resolves({ Events: [] });
    await rds.run!(actionContext(env), { action: 'failover-cluster', cluster: 'orders' });
    const input = rdsMock.commandCalls(FailoverDBClusterCommand)[0]!.args[0].input;
    assert.equal(input.TargetDBInstanceIdentifier, undefined);
  });

  test('reboot with forceFailover sends ForceFailover: true and reads the cluster’s events', async () => {
    rdsMock.on(RebootDBInstanceCommand).resolves({ DBInstance: { DBInstanceStatus: 'rebooting' } });
    rdsMock.on(DescribeEventsCommand).resolves({ Events: [] });
    const out = await rds.run!(actionContext(env), {
      action: 'reboot',
      targetInstance: 'orders-1',
      forceFailover: true,
      cluster: 'orders',
    });
    assert.deepEqual(sent(), ['RebootDBInstanceCommand', 'DescribeEventsCommand']);
    assert.deepEqual(rdsMock.commandCalls(RebootDBInstanceCommand)[0]!.args[0].input, {
      DBInstanceIdentifier: 'orders-1',
      ForceFailover: true,
    });
    assert.equal(out.status, 'rebooting');
  });

  test('wait polls DescribeDBClusters with backoff until the target is the available writer; the failover events come with it', async () => {
    rdsMock
      .on(DescribeDBClustersCommand)
      .resolvesOnce(cluster('failing-over'))
      .resolvesOnce(cluster('failing-over', 'orders-2'))
      .resolves(cluster('available', 'orders-2'));
    rdsMock.on(DescribeEventsCommand).resolves({
      Events: [
        { Message: 'Completed failover to DB instance: orders-2', Date: at('2026-01-01T10:00:30Z') },
        { Message: 'Started same AZ failover to DB instance: orders-2', Date: at('2026-01-01T10:00:01Z') },
      ],
    });
    const started = performance.now();
    const ctx = actionContext(env);
    const out = await rds.run!(ctx, {
      action: 'wait',
      cluster: 'orders',
      targetInstance: 'orders-2',
    });
    const elapsed = performance.now() - started;
    assert.deepEqual(sent(), [
      'DescribeDBClustersCommand',
      'DescribeDBClustersCommand',
      'DescribeDBClustersCommand',
      'DescribeEventsCommand',
    ]);
    // 1 s, then 1.5 s: the second pause is longer than the first.
    assert.ok(elapsed >= 2400 && elapsed < 6000, `waited ${elapsed} ms`);
    assert.equal(out.writer, 'orders-2');
    assert.equal(out.status, 'available');
    assert.ok(out.waitedMs! >= 2400);
    assert.deepEqual(ctx.logs, [
      'orders: failing-over, writer (none)',
      'orders: failing-over, writer orders-2',
      'orders: available, writer orders-2',
    ]);
    assert.deepEqual(
      out.events.map((e) => [e.code, e.phase]),
      [
        ['RDS-EVENT-0072', 'started'],
        ['RDS-EVENT-0071', 'completed'],
      ],
    );
  });

  test('wait that the step’s timeout ends says what the cluster last looked like', async () => {
    rdsMock.on(DescribeDBClustersCommand).resolves(cluster('failing-over', 'orders-1'));
    const ctx = actionContext(env);
    const controller = new AbortController();
    setTimeout(
      () => controller.abort(new StepFailure('timed out after 1.5s', { code: 'timeout', retryable: true })),
      1500,
    );
    ctx.signal = controller.signal;
    const err = await failureOf(
      rds.run!(ctx, { action: 'wait', cluster: 'orders', targetInstance: 'orders-2' }),
    );
    assert.ok(err instanceof StepFailure);
    assert.equal(
      err.message,
      "rds eu-west-1: orders-2 as the available writer of orders: not reached before the step's timed out after 1.5s; last seen: orders: failing-over, writer orders-1",
    );
    assert.equal(err.code, 'timeout');
  });

  test('describe reports status, writer, members, and every page of the failover events', async () => {
    rdsMock.on(DescribeDBClustersCommand).resolves(cluster('available', 'orders-1'));
    rdsMock
      .on(DescribeEventsCommand)
      .resolvesOnce({
        Events: [{ Message: 'A failover for the DB cluster has failed.', Date: at('2026-01-01T09:00:00Z') }],
        Marker: 'page-2',
      })
      .resolves({
        Events: [{ Message: 'RDS-EVENT-0071 failover finished', Date: at('2026-01-01T09:30:00Z') }],
      });
    const out = await rds.run!(actionContext(env), { action: 'describe', cluster: 'orders' });
    const pages = rdsMock.commandCalls(DescribeEventsCommand).map((c) => c.args[0].input.Marker);
    assert.deepEqual(pages, [undefined, 'page-2']);
    assert.equal(out.writer, 'orders-1');
    assert.deepEqual(out.members, [
      { instance: 'orders-1', writer: true },
      { instance: 'orders-2', writer: false },
    ]);
    assert.deepEqual(
      out.events.map((e) => e.code),
      ['RDS-EVENT-0069', 'RDS-EVENT-0071'],
    );
  });

  test('InvalidDBClusterStateFault is one line with its code, not retried', async () => {
    rdsMock.on(DescribeDBClustersCommand).resolves(cluster('failing-over', 'orders-1'));
    rdsMock.on(FailoverDBClusterCommand).rejects(
      new InvalidDBClusterStateFault({
        message: 'Cluster orders is not in an available state.',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const err = await failureOf(
      rds.run!(actionContext(env), { action: 'failover-cluster', cluster: 'orders' }),
    );
    assert.ok(err instanceof StepFailure);
    assert.equal(
      err.message,
      'rds eu-west-1: FailoverDBCluster orders failed: InvalidDBClusterStateFault: Cluster orders is not in an available state. (HTTP 400)',
    );
    assert.equal(err.code, 'InvalidDBClusterStateFault');
    assert.equal(err.retryable, false);
    assert.equal(
      rdsMock.commandCalls(FailoverDBClusterCommand).length,
      1,
      'a permanent fault is not retried',
    );
  });

  test('DBClusterNotFoundFault names the cluster and the code, and nothing is called after it', async () => {
    rdsMock.on(DescribeDBClustersCommand).rejects(
      new DBClusterNotFoundFault({
        message: 'DBCluster ordres not found.',
        $metadata: { httpStatusCode: 404 },
      }),
    );
    const err = await failureOf(
      rds.run!(actionContext(env), { action: 'failover-cluster', cluster: 'ordres' }),
    );
    assert.ok(err instanceof StepFailure);
    assert.match(
      err.message,
      /^rds eu-west-1: DescribeDBClusters ordres failed: DBClusterNotFoundFault: DBCluster ordres not found\. \(HTTP 404\)$/,
    );
    assert.equal(err.code, 'DBClusterNotFoundFault');
    assert.deepEqual(sent(), ['DescribeDBClustersCommand']);
  });

  test('throttling is retried with backoff and the call succeeds', async () => {
    rdsMock
      .on(DescribeDBClustersCommand)
      .rejectsOnce(throttled())
      .rejectsOnce(throttled())
      .resolves(cluster('available', 'orders-1'));
    rdsMock.on(DescribeEventsCommand).resolves({ Events: [] });
    const started = performance.now();
    const out = await rds.run!(actionContext(env), { action: 'describe', cluster: 'orders' });
    assert.equal(out.writer, 'orders-1');
    assert.equal(rdsMock.commandCalls(DescribeDBClustersCommand).length, 3);
    assert.ok(performance.now() - started >= 700, '250 ms then 500 ms at least between attempts');
  });

  test('throttling that never ends fails after 5 attempts, naming Throttling', async () => {
    rdsMock.on(DescribeDBClustersCommand).rejects(throttled());
    const err = await failureOf(rds.run!(actionContext(env), { action: 'describe', cluster: 'orders' }));
    assert.ok(err instanceof StepFailure);
    assert.equal(
      err.message,
      'rds eu-west-1: DescribeDBClusters orders failed: Throttling: Rate exceeded (HTTP 400)',
    );
    assert.equal(rdsMock.commandCalls(DescribeDBClustersCommand).length, 5);
  });

  test('an environment without cloud: is bad input before any call', async () => {
    const { cloud: _, ...noCloud } = env;
    const err = await failureOf(rds.run!(actionContext(noCloud), { action: 'describe', cluster: 'orders' }));
    assert.ok(err instanceof UserError);
    assert.match(err.message, /environment lab has no cloud: \{ provider: aws, region \} in the inventory/);
    assert.deepEqual(sent(), []);
  });

  test('failover event ids are told from RDS’s messages', () => {
    assert.equal(failoverEventCode('Started same AZ failover to DB instance: a'), 'RDS-EVENT-0072');
    assert.equal(failoverEventCode('Started cross AZ failover to DB instance: a'), 'RDS-EVENT-0073');
    assert.equal(failoverEventCode('Completed failover to DB instance: a'), 'RDS-EVENT-0071');
    assert.equal(failoverEventCode('A failover for the DB cluster has failed.'), 'RDS-EVENT-0069');
    assert.equal(failoverEventCode('DB instance restarted'), undefined);
  });
});

const ARN = (id: string, region: string) => `arn:aws:rds:${region}:123456789012:cluster:${id}`;
const globalCluster = (status: string, writer: string, failover?: string) => ({
  GlobalClusters: [
    {
      GlobalClusterIdentifier: 'orders-global',
      Status: status,
      GlobalClusterMembers: [
        { DBClusterArn: ARN('orders-us', 'us-east-1'), IsWriter: writer === 'orders-us' },
        { DBClusterArn: ARN('orders-eu', 'eu-west-1'), IsWriter: writer === 'orders-eu' },
      ],
      ...(failover && { FailoverState: { Status: failover as 'pending' } }),
    },
  ],
});

describe('aurora-global: switchover, failover, wait', () => {
  test('switchover calls SwitchoverGlobalCluster with the global database and the target', async () => {
    rdsMock.on(DescribeGlobalClustersCommand).resolves(globalCluster('available', 'orders-us'));
    rdsMock.on(SwitchoverGlobalClusterCommand).resolves({
      GlobalCluster: { Status: 'switching-over', FailoverState: { Status: 'pending' } },
    });
    const out = await auroraGlobal.run!(actionContext(env), {
      action: 'switchover',
      globalCluster: 'orders-global',
      targetCluster: 'orders-eu',
    });
    assert.deepEqual(sent(), ['DescribeGlobalClustersCommand', 'SwitchoverGlobalClusterCommand']);
    assert.deepEqual(rdsMock.commandCalls(SwitchoverGlobalClusterCommand)[0]!.args[0].input, {
      GlobalClusterIdentifier: 'orders-global',
      TargetDbClusterIdentifier: 'orders-eu',
    });
    assert.equal(out.previousWriter, ARN('orders-us', 'us-east-1'));
    assert.equal(out.failover, 'pending');
  });

  test('failover sends AllowDataLoss only when allowDataLoss is true; false asks for a switchover', async () => {
    rdsMock.on(DescribeGlobalClustersCommand).resolves(globalCluster('available', 'orders-us'));
    rdsMock.on(FailoverGlobalClusterCommand).resolves({ GlobalCluster: { Status: 'failing-over' } });
    for (const allowDataLoss of [true, false]) {
      await auroraGlobal.run!(actionContext(env), {
        action: 'failover',
        globalCluster: 'orders-global',
        targetCluster: 'orders-eu',
        allowDataLoss,
      });
    }
    const inputs = rdsMock.commandCalls(FailoverGlobalClusterCommand).map((c) => c.args[0].input);
    assert.deepEqual(inputs, [
      {
        GlobalClusterIdentifier: 'orders-global',
        TargetDbClusterIdentifier: 'orders-eu',
        AllowDataLoss: true,
      },
      { GlobalClusterIdentifier: 'orders-global', TargetDbClusterIdentifier: 'orders-eu', Switchover: true },
    ]);
  });

  test('wait polls until the target (named by identifier) is the writer and no failover is pending', async () => {
    rdsMock
      .on(DescribeGlobalClustersCommand)
      .resolvesOnce(globalCluster('switching-over', 'orders-us', 'failing-over'))
      .resolves(globalCluster('available', 'orders-eu'));
    const out = await auroraGlobal.run!(actionContext(env), {
      action: 'wait',
      globalCluster: 'orders-global',
      targetCluster: 'orders-eu',
    });
    assert.deepEqual(sent(), ['DescribeGlobalClustersCommand', 'DescribeGlobalClustersCommand']);
    assert.deepEqual(rdsMock.commandCalls(DescribeGlobalClustersCommand)[0]!.args[0].input, {
      GlobalClusterIdentifier: 'orders-global',
    });
    assert.equal(out.writer, ARN('orders-eu', 'eu-west-1'));
    assert.equal(out.status, 'available');
  });
});
