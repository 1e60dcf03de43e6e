// The RDS client as the inventory configures it: `cloud.endpoint` and credentials from secret
// references. Stand-in: a loopback HTTP server (http-stub.ts) answering RDS's query protocol, which
// records what the SDK sends (the action, its parameters, the SigV4 credential scope).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import '../../src/actions/registry.js';
import { rds } from '../../src/actions/rds.js';
import { actionContext } from '../helpers/action-context.js';
import { httpStub, type HttpStub } from '../routing/http-stub.js';
import { cloudEnvironment } from './cloud-env.js';

const NS = 'xmlns="http://rds.amazonaws.com/doc/2014-10-31/"';

describe('rds against a configured endpoint', () => {
  let stub: HttpStub;
  before(async () => {
    process.env.DRILLBOOK_TEST_RDS_KEY = 'AKIDRDSTEST';
    process.env.DRILLBOOK_TEST_RDS_SECRET = 'rds-test-secret';
    stub = await httpStub((req) => {
      const form = new URLSearchParams(req.body);
      if (form.get('Action') === 'DescribeDBClusters')
        return {
          headers: { 'content-type': 'text/xml' },
          body: `<DescribeDBClustersResponse ${NS}><DescribeDBClustersResult><DBClusters><DBCluster><DBClusterIdentifier>orders</DBClusterIdentifier><Status>available</Status><DBClusterMembers><DBClusterMember><DBInstanceIdentifier>orders-1</DBInstanceIdentifier><IsClusterWriter>true</IsClusterWriter></DBClusterMember><DBClusterMember><DBInstanceIdentifier>orders-2</DBInstanceIdentifier><IsClusterWriter>false</IsClusterWriter></DBClusterMember></DBClusterMembers></DBCluster></DBClusters></DescribeDBClustersResult></DescribeDBClustersResponse>`,
        };
      if (form.get('Action') === 'DescribeEvents')
        return {
          headers: { 'content-type': 'text/xml' },
          body: `<DescribeEventsResponse ${NS}><DescribeEventsResult><Events><Event><SourceIdentifier>orders</SourceIdentifier><SourceType>db-cluster</SourceType><Message>Completed failover to DB instance: orders-1</Message><Date>2026-01-01T10:00:00Z</Date></Event></Events></DescribeEventsResult></DescribeEventsResponse>`,
        };
      return {
        status: 400,
        body: `<ErrorResponse ${NS}><Error><Code>InvalidAction</Code></Error></ErrorResponse>`,
      };
    });
  });
  after(() => stub.close());

  test('describe goes to cloud.endpoint, signed for the inventory region with the referenced key', async () => {
    const env = {
      ...cloudEnvironment,
      cloud: {
        provider: 'aws' as const,
        region: 'eu-west-1',
        endpoint: stub.url,
        accessKeyId: 'env:DRILLBOOK_TEST_RDS_KEY',
        secretAccessKey: 'env:DRILLBOOK_TEST_RDS_SECRET',
      },
    };
    const out = await rds.run!(actionContext(env), { action: 'describe', cluster: 'orders' });
    assert.equal(out.writer, 'orders-1');
    assert.deepEqual(out.events, [
      {
        at: '2026-01-01T10:00:00.000Z',
        code: 'RDS-EVENT-0071',
        phase: 'completed',
        message: 'Completed failover to DB instance: orders-1',
      },
    ]);
    const [describe, events] = stub.requests.map((r) => new URLSearchParams(r.body));
    assert.equal(describe!.get('DBClusterIdentifier'), 'orders');
    assert.equal(events!.get('SourceType'), 'db-cluster');
    assert.equal(events!.get('EventCategories.EventCategory.1'), 'failover');
    for (const r of stub.requests)
      assert.match(
        String(r.headers.authorization),
        /^AWS4-HMAC-SHA256 Credential=AKIDRDSTEST\/\d{8}\/eu-west-1\/rds\/aws4_request/,
      );
  });
});
