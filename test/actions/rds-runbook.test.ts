// The cloud runbooks run as an operator runs them (`drillbook run ... --json --yes` through the CLI's
// own entry), with the RDS API stood in by aws-sdk-client-mock (RDSClient's `send` replaced: no
// AWS, no network): the shipped aurora-global-switchover runbook end to end, and an RDS failover
// whose failover events reach the report (report.json's cloudEvents, report.md).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, test } from 'node:test';
import {
  DescribeDBClustersCommand,
  DescribeEventsCommand,
  DescribeGlobalClustersCommand,
  FailoverDBClusterCommand,
  RDSClient,
  SwitchoverGlobalClusterCommand,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { stringify } from 'yaml';
import { runCommand } from '../../src/compose/commands.js';
import type { RunEvent } from '../../src/engine/events.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { reportOfJournal } from '../../src/report/model.js';
import { journalPath } from '../../src/system/run-paths.js';
import { cloudEnvironment } from './cloud-env.js';

const tmp = mkdtempSync(join(tmpdir(), 'drillbook-rds-runbook-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const rdsMock = mockClient(RDSClient);
afterEach(() => rdsMock.reset());

const inventory = join(tmp, 'inventory.yaml');
writeFileSync(
  inventory,
  stringify({
    apiVersion: 'drillbook/v1',
    kind: 'Inventory',
    environments: {
      staging: cloudEnvironment,
    },
  }),
);

async function run(runbookFile: string, set: string[]) {
  const events: RunEvent[] = [];
  const stateDir = join(tmp, 'state');
  const code = await runCommand(
    { runbookFile, envName: 'staging', inventoryFile: inventory, set, json: true, yes: true, stateDir },
    {
      out: (text) => {
        for (const line of text.split('\n').filter(Boolean)) events.push(JSON.parse(line) as RunEvent);
      },
      err: () => undefined,
    },
  );
  const runId = events[0]!.runId;
  return { code, events, report: () => reportOfJournal(journalPath(stateDir, runId)) };
}

const sent = () => rdsMock.calls().map((c) => (c.args[0] as object).constructor.name);

describe('cloud runbooks through drillbook run', () => {
  test('runbooks/aurora-global-switchover.yaml: SwitchoverGlobalCluster, then polls until the target writes', async () => {
    const arn = (id: string) => `arn:aws:rds:eu-west-1:123456789012:cluster:${id}`;
    const state = (writer: string, status: string) => ({
      GlobalClusters: [
        {
          Status: status,
          GlobalClusterMembers: ['orders-us', 'orders-eu'].map((id) => ({
            DBClusterArn: arn(id),
            IsWriter: id === writer,
          })),
        },
      ],
    });
    rdsMock
      .on(DescribeGlobalClustersCommand)
      .resolvesOnce(state('orders-us', 'available'))
      .resolvesOnce(state('orders-us', 'switching-over'))
      .resolves(state('orders-eu', 'available'));
    rdsMock.on(SwitchoverGlobalClusterCommand).resolves({ GlobalCluster: { Status: 'switching-over' } });
    const { code, events } = await run('runbooks/aurora-global-switchover.yaml', [
      'globalCluster=orders-global',
      'targetCluster=orders-eu',
    ]);
    const finished = events.filter((e) => e.type === 'step-finished');
    assert.equal(code, 0, JSON.stringify(finished.map((e) => [e.stepId, e.status, e.error])));
    assert.deepEqual(sent(), [
      'DescribeGlobalClustersCommand',
      'SwitchoverGlobalClusterCommand',
      'DescribeGlobalClustersCommand',
      'DescribeGlobalClustersCommand',
    ]);
    const wait = finished.find((e) => e.stepId === 'wait-writer')!;
    assert.equal(wait.outputs.writer, arn('orders-eu'));
  });

  test('an RDS failover’s events from DescribeEvents reach the report’s timeline, each once', async () => {
    const runbook = join(tmp, 'rds-failover.yaml');
    writeFileSync(
      runbook,
      stringify({
        apiVersion: 'drillbook/v1',
        kind: 'Runbook',
        metadata: { name: 'rds-failover-test' },
        steps: [
          {
            id: 'failover',
            kind: 'rds',
            with: { action: 'failover-cluster', cluster: 'orders', targetInstance: 'orders-2' },
          },
          {
            id: 'wait-writer',
            kind: 'rds',
            timeout: '1m',
            with: { action: 'wait', cluster: 'orders', targetInstance: 'orders-2' },
          },
        ],
      }),
    );
    const cluster = (writer: string) => ({
      DBClusters: [
        {
          Status: 'available',
          DBClusterMembers: ['orders-1', 'orders-2'].map((id) => ({
            DBInstanceIdentifier: id,
            IsClusterWriter: id === writer,
          })),
        },
      ],
    });
    const now = Date.now();
    const startedEvent = {
      Message: 'Started cross AZ failover to DB instance: orders-2',
      Date: new Date(now + 1000),
    };
    rdsMock.on(DescribeDBClustersCommand).resolvesOnce(cluster('orders-1')).resolves(cluster('orders-2'));
    rdsMock.on(FailoverDBClusterCommand).resolves({ DBCluster: { Status: 'failing-over' } });
    rdsMock
      .on(DescribeEventsCommand)
      .resolvesOnce({ Events: [startedEvent] })
      .resolves({
        Events: [
          startedEvent,
          { Message: 'Completed failover to DB instance: orders-2', Date: new Date(now + 20_000) },
        ],
      });
    const { code, events, report } = await run(runbook, []);
    assert.equal(code, 0);
    assert.ok(
      events.some(
        (e) =>
          e.type === 'log' &&
          e.stepId === 'wait-writer' &&
          e.message === 'orders: available, writer orders-2',
      ),
      'the wait logs what it sees',
    );
    const r = report();
    assert.deepEqual(
      r.cloudEvents?.map((e) => [e.stepId, e.code, e.phase]),
      [
        ['failover', 'RDS-EVENT-0073', 'started'],
        ['wait-writer', 'RDS-EVENT-0071', 'completed'],
      ],
    );
    const [first, second] = r.cloudEvents!;
    assert.ok(Math.abs(second!.atMs! - first!.atMs! - 19_000) < 1, 'offsets on the run’s clock');
    const md = renderMarkdown(r);
    assert.match(md, /## Cloud failover events/);
    assert.match(
      md,
      /\| RDS-EVENT-0071 \| completed \| Completed failover to DB instance: orders-2 \| wait-writer \|/,
    );
  });
});
