// dns: PowerDNS on the lab (a real DNS query sees the change). Stand-ins: Route 53 is
// route53-stub.ts (a loopback server answering ListResourceRecordSets like the real API: the whole
// zone, in pages), Cloudflare a local stub; both record the requests the clients send. The shared
// lab's record is restored.
import assert from 'node:assert/strict';
// The registry first (see route.test.ts: an import cycle through runbook/targets.ts).
import '../../src/actions/registry.js';
import { after, afterEach, before, describe, test } from 'node:test';
import { ListResourceRecordSetsCommand, Route53Client, type RRType } from '@aws-sdk/client-route-53';
import { dns } from '../../src/actions/dns.js';
import { dnsProvider, type RecordSet } from '../../src/connectors/dns/provider.js';
import { queryNameserver } from '../../src/connectors/dns/resolve.js';
import { resolveSecretRef } from '../../src/connectors/secrets.js';
import { StepFailure, UserError } from '../../src/errors.js';
import type { DnsZone, Environment } from '../../src/schema/inventory.js';
import { requireLab, testLab } from '../helpers/lab.js';
import { actionContext, failureOf } from './context.js';
import { httpStub, type HttpStub } from './http-stub.js';
import { route53Stub, type StubRecordSet } from './route53-stub.js';

describe('dns with PowerDNS on the lab', () => {
  const lab = testLab();
  const zone = lab?.environment.dns?.zones.lab;
  const name = lab?.environment.dns?.records.db?.name ?? '';
  let original: RecordSet | undefined;
  const provider = () => dnsProvider(zone!, { secret: resolveSecretRef });
  before(async () => {
    if (zone) original = await (await provider()).getRecord(name, 'A');
  });
  after(async () => {
    if (zone && original)
      await (await provider()).replaceRecord(name, 'A', original.values[0]!, original.ttl);
  });

  test('replaces the record with the node’s address; the nameserver answers it; previous and TTL reported', async (t) => {
    const l = requireLab(t);
    if (!l) return;
    const env = l.environment;
    const pg2 = env.postgres.nodes.pg2!;
    const out = await dns.run!(actionContext(env), { record: 'db', to: 'pg2' });
    assert.equal(out.value, pg2.host);
    assert.equal(out.previous, original?.values[0]);
    assert.equal(out.ttl, env.dns!.records.db!.ttl);
    assert.equal(out.changed, true);
    assert.match(String(out.message), /old answer .* for up to \d+s/);
    t.diagnostic(`powerdns change ${String(out.changeMs)} ms, propagation ${String(out.propagationMs)} ms`);
    // An independent query, as a resolver would ask.
    assert.deepEqual(await queryNameserver(zone!.nameservers[0]!, name, 'A'), [pg2.host]);

    const again = await dns.run!(actionContext(env), { record: 'db', to: 'pg2' });
    assert.equal(again.changed, false, 'idempotent');
    const back = await dns.run!(actionContext(env), { record: 'db', value: String(out.previous), ttl: 5 });
    assert.equal(back.previous, pg2.host);
  });

  test('a wrong API key is a step failure naming PowerDNS and the answer', async (t) => {
    const l = requireLab(t);
    if (!l) return;
    const env: Environment = structuredClone(l.environment);
    process.env.DRILLBOOK_TEST_WRONG_PDNS_KEY = 'not-the-key';
    env.dns!.zones.lab!.apiKey = 'env:DRILLBOOK_TEST_WRONG_PDNS_KEY';
    const err = await failureOf(dns.run!(actionContext(env), { record: 'db', to: 'pg2' }));
    assert.ok(err instanceof StepFailure);
    assert.match(
      err.message,
      /^powerdns http:\/\/127\.0\.0\.1:\d+ zone lab\.drillbook\.test\.: GET answered HTTP 401/,
    );
    assert.doesNotMatch(err.message, /not-the-key/);
  });

  test('propagation that does not happen in time fails naming each nameserver’s answer', async (t) => {
    const l = requireLab(t);
    if (!l) return;
    const env: Environment = structuredClone(l.environment);
    // A second "authoritative" server where nothing answers DNS.
    env.dns!.zones.lab!.nameservers.push({ host: '127.0.0.1', port: 9 });
    const err = await failureOf(
      dns.run!(actionContext(env), { record: 'db', to: 'pg3', propagationTimeout: '1500ms' }),
    );
    assert.ok(err instanceof StepFailure);
    assert.match(err.message, /A db\.lab\.drillbook\.test\. = 127\.0\.0\.\d+ not visible after \d+ ms/);
    assert.match(err.message, /127\.0\.0\.1:9 answers /);
    assert.equal(err.retryable, true);
  });

  test('neither node nor value is bad input', async (t) => {
    const l = requireLab(t);
    if (!l) return;
    await assert.rejects(dns.run!(actionContext(l.environment), { record: 'db' }), UserError);
  });
});

/** An environment whose only zone is `zone`, record db.example.com. A ttl 30. */
function cloudEnv(zone: DnsZone): Environment {
  return {
    label: 'staging',
    primary: 'pg1',
    replicas: ['pg2'],
    postgres: {
      database: 'app',
      user: 'app',
      nodes: { pg1: { host: '10.0.0.1', port: 5432 }, pg2: { host: '10.0.0.2', port: 5432 } },
    },
    dns: {
      zones: { main: zone },
      records: { db: { zone: 'main', name: 'db.example.com.', type: 'A', ttl: 30 } },
    },
  };
}

const simpleZone = (): StubRecordSet[] => [
  // Every record of the zone, as Route 53 lists them: the one asked for is not alone.
  { name: 'example.com.', type: 'NS', ttl: 172800, values: ['ns-1.awsdns-01.org.'] },
  { name: 'api.example.com.', type: 'A', ttl: 60, values: ['10.0.1.1'] },
  ...Array.from({ length: 400 }, (_, i) => ({
    name: `host${String(i).padStart(3, '0')}.example.com.`,
    type: 'A',
    ttl: 60,
    values: [`10.1.${i >> 8}.${i & 255}`],
  })),
  { name: 'db.example.com.', type: 'A', ttl: 30, values: ['10.0.0.1'] },
  { name: 'db.example.com.', type: 'TXT', ttl: 30, values: ['"owner=dba"'] },
];

describe('dns with Route 53 (AWS SDK v3 against a stand-in that answers like the real API)', () => {
  let stub: HttpStub;
  before(async () => {
    process.env.DRILLBOOK_TEST_AWS_KEY_ID = 'AKIDDRILLBOOKTEST';
    process.env.DRILLBOOK_TEST_AWS_SECRET = 'drillbook-test-secret';
  });
  afterEach(() => stub?.close());

  const zone = (): DnsZone => ({
    provider: 'route53',
    zone: 'example.com.',
    hostedZoneId: 'Z0DRILL',
    apiUrl: stub.url,
    accessKeyId: 'env:DRILLBOOK_TEST_AWS_KEY_ID',
    secretAccessKey: 'env:DRILLBOOK_TEST_AWS_SECRET',
    nameservers: [{ host: '127.0.0.1', port: 53 }],
  });

  test('the stand-in lists every record of the zone in pages: IsTruncated, NextRecordName, NextRecordType, MaxItems', async () => {
    stub = await route53Stub('Z0DRILL', simpleZone());
    const client = new Route53Client({
      region: 'us-east-1',
      endpoint: stub.url,
      credentials: { accessKeyId: 'AKIDDRILLBOOKTEST', secretAccessKey: 'drillbook-test-secret' },
    });
    const seen: string[] = [];
    let start: { StartRecordName?: string; StartRecordType?: RRType } = {};
    for (;;) {
      const page = await client.send(
        new ListResourceRecordSetsCommand({ HostedZoneId: 'Z0DRILL', ...start, MaxItems: 150 }),
      );
      assert.equal(page.MaxItems, 150);
      seen.push(...page.ResourceRecordSets!.map((r) => `${r.Name} ${r.Type}`));
      if (!page.IsTruncated) break;
      start = { StartRecordName: page.NextRecordName, StartRecordType: page.NextRecordType };
    }
    client.destroy();
    assert.equal(seen.length, 404);
    assert.equal(new Set(seen).size, 404, 'each record once');
    assert.deepEqual(seen.slice(0, 4), [
      'example.com. NS',
      'api.example.com. A',
      'db.example.com. A',
      'db.example.com. TXT',
    ]);
    assert.equal(stub.requests.length, 3, '404 records in pages of 150');
  });

  test('UPSERTs the record, then polls GetChange until INSYNC', async () => {
    stub = await route53Stub('Z0DRILL', simpleZone());
    const out = await dns.run!(actionContext(cloudEnv(zone())), {
      record: 'db',
      to: 'pg2',
      waitForPropagation: false,
    });
    assert.equal(out.previous, '10.0.0.1');
    assert.equal(out.value, '10.0.0.2');
    assert.equal(out.ttl, 30);

    const [list, change, ...polls] = stub.requests;
    assert.match(list!.path, /[?&]name=db\.example\.com\.(&|$)/);
    assert.match(list!.path, /[?&]type=A(&|$)/);
    assert.equal(change!.method, 'POST');
    assert.match(change!.body, /<Action>UPSERT<\/Action>/);
    assert.match(
      change!.body,
      /<ResourceRecordSet><Name>db\.example\.com\.<\/Name><Type>A<\/Type><TTL>30<\/TTL><ResourceRecords><ResourceRecord><Value>10\.0\.0\.2<\/Value><\/ResourceRecord><\/ResourceRecords><\/ResourceRecordSet>/,
    );
    for (const req of stub.requests) {
      assert.match(
        String(req.headers.authorization),
        /^AWS4-HMAC-SHA256 Credential=AKIDDRILLBOOKTEST\/\d{8}\/us-east-1\/route53\/aws4_request/,
      );
    }
    assert.equal(polls.length, 2, 'GetChange until INSYNC: PENDING, then INSYNC');
    assert.ok(polls.every((p) => p.method === 'GET' && p.path === '/2013-04-01/change/C0DRILL'));
  });

  test('a name without the record: the listing goes on with other names, and the record is absent', async () => {
    stub = await route53Stub(
      'Z0DRILL',
      simpleZone().filter((r) => !(r.name === 'db.example.com.' && r.type === 'A')),
    );
    const provider = await dnsProvider(zone(), { secret: resolveSecretRef });
    assert.equal(await provider.getRecord('db.example.com.', 'A'), undefined);
    assert.equal(stub.requests.length, 1);
  });

  test('a record of 150 weighted sets is read over two pages and refused (only simple records are replaced)', async () => {
    const weighted = Array.from({ length: 150 }, (_, i) => ({
      name: 'db.example.com.',
      type: 'A',
      ttl: 30,
      values: [`10.0.2.${i}`],
      setIdentifier: `w${String(i).padStart(3, '0')}`,
      weight: 1,
    }));
    stub = await route53Stub('Z0DRILL', [
      ...simpleZone().filter((r) => r.name !== 'db.example.com.'),
      ...weighted,
    ]);
    const provider = await dnsProvider(zone(), { secret: resolveSecretRef });
    const err = await failureOf(provider.getRecord('db.example.com.', 'A'));
    assert.ok(err instanceof StepFailure);
    assert.match(
      err.message,
      /: A db\.example\.com\. is 150 record set\(s\) with a routing policy \(SetIdentifier w000\): drillbook replaces only a simple record$/,
    );
    const pages = stub.requests.map((r) => new URL(r.path, 'http://x').searchParams);
    assert.equal(pages.length, 2);
    assert.equal(pages[1]!.get('name'), 'db.example.com.');
    assert.equal(pages[1]!.get('type'), 'A');
    assert.equal(pages[1]!.get('identifier'), 'w100', 'the second page starts at NextRecordIdentifier');
  });
});

describe('dns with Cloudflare (API v4 against a local endpoint)', () => {
  let stub: HttpStub;
  before(async () => {
    process.env.DRILLBOOK_TEST_CF_TOKEN = 'cf-test-token';
    stub = await httpStub((req) => {
      if (req.headers.authorization !== 'Bearer cf-test-token') {
        return {
          status: 403,
          body: { success: false, errors: [{ code: 10000, message: 'Authentication error' }] },
        };
      }
      if (req.method === 'GET' && req.path.startsWith('/client/v4/zones/cfzone/dns_records?')) {
        return {
          body: {
            success: true,
            errors: [],
            result: [
              { id: 'rec1', type: 'A', name: 'db.example.com', content: '10.0.0.1', ttl: 120 },
              { id: 'rec2', type: 'A', name: 'db.example.com', content: '10.0.0.9', ttl: 120 },
            ],
          },
        };
      }
      if (req.method === 'PUT' && req.path === '/client/v4/zones/cfzone/dns_records/rec1') {
        return { body: { success: true, errors: [], result: { id: 'rec1', ...JSON.parse(req.body) } } };
      }
      if (req.method === 'DELETE' && req.path === '/client/v4/zones/cfzone/dns_records/rec2') {
        return { body: { success: true, errors: [], result: { id: 'rec2' } } };
      }
      return { status: 404, body: { success: false, errors: [{ code: 7003, message: 'not found' }] } };
    });
  });
  after(() => stub.close());

  const zone = (token = 'env:DRILLBOOK_TEST_CF_TOKEN'): DnsZone => ({
    provider: 'cloudflare',
    zone: 'example.com.',
    zoneId: 'cfzone',
    apiKey: token,
    apiUrl: `${stub.url}/client/v4`,
    nameservers: [{ host: '127.0.0.1', port: 53 }],
  });

  test('updates the record in place, removes the extra values, with the bearer token', async () => {
    stub.requests.length = 0;
    const out = await dns.run!(actionContext(cloudEnv(zone())), {
      record: 'db',
      to: 'pg2',
      waitForPropagation: false,
    });
    assert.equal(out.previous, '10.0.0.1,10.0.0.9');
    assert.equal(out.ttl, 30);
    const list = stub.requests.find((r) => r.method === 'GET');
    const [put, del] = stub.requests.filter((r) => r.method !== 'GET');
    assert.equal(list!.method, 'GET');
    assert.deepEqual(Object.fromEntries(new URL(list!.path, stub.url).searchParams), {
      name: 'db.example.com',
      type: 'A',
    });
    assert.equal(put!.method, 'PUT');
    assert.equal(put!.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(put!.body), {
      type: 'A',
      name: 'db.example.com',
      content: '10.0.0.2',
      ttl: 30,
    });
    assert.equal(del!.method, 'DELETE');
  });

  test('a refused token is a step failure naming Cloudflare and its error, without the token', async () => {
    process.env.DRILLBOOK_TEST_CF_BAD = 'cf-wrong-token';
    const err = await failureOf(
      dns.run!(actionContext(cloudEnv(zone('env:DRILLBOOK_TEST_CF_BAD'))), { record: 'db', to: 'pg2' }),
    );
    assert.ok(err instanceof StepFailure);
    assert.match(
      err.message,
      /^cloudflare http:\/\/127\.0\.0\.1:\d+\/client\/v4 zone example\.com\. \(cfzone\): GET answered HTTP 403: .*Authentication error/,
    );
    assert.doesNotMatch(err.message, /cf-wrong-token/);
  });
});
