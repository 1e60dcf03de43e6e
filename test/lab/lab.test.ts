// The lab's components, exercised for real: SQL, replication, HAProxy, SSH, DNS, Slack, the inventory.
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { WebClient } from '@slack/web-api';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { NodeSSH } from 'node-ssh';
import pg from 'pg';
import { parse } from 'yaml';
import { knownHostsVerifier } from '../../src/connectors/known-hosts.js';
import { Inventory } from '../../src/schema/inventory.js';
import { readSecret, type TestLab } from '../helpers/lab.js';
import { useLab } from './fixture.js';

// ajv-formats is CommonJS: its default export arrives wrapped under NodeNext.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

const lab = useLab({
  baseAddress: '127.0.0.30',
  routerPort: 6452,
  dnsPort: 5383,
  dnsApiPort: 8111,
  slackPort: 4029,
});

function connect(l: TestLab, host: string, port: number): pg.Client {
  const { postgres } = l.environment;
  return new pg.Client({
    host,
    port,
    user: postgres.user,
    password: readSecret(postgres.password),
    database: postgres.database,
  });
}

async function query<T extends pg.QueryResultRow>(
  client: pg.Client,
  sql: string,
  values: unknown[] = [],
): Promise<T[]> {
  return (await client.query<T>(sql, values)).rows;
}

describe('lab inventory', () => {
  test('validates against the Inventory schema and keeps secrets out of the file', () => {
    const text = readFileSync(lab().inventoryPath, 'utf8');
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    const validate = ajv.compile(Inventory);
    assert.ok(validate(parse(text)), JSON.stringify(validate.errors, null, 2));
    const env = lab().environment;
    assert.equal(env.label, 'staging');
    for (const secret of [
      env.postgres.password,
      env.postgres.replicationPassword,
      env.slack?.token,
      env.dns?.zones.lab?.apiKey,
    ]) {
      assert.match(secret ?? '', /^file:\//);
      assert.ok(!text.includes(readSecret(secret)), 'a secret value appears inline');
    }
  });
});

describe('lab postgres', () => {
  test('every node answers SQL, the primary streams to every replica', async () => {
    const env = lab().environment;
    for (const [name, node] of Object.entries(env.postgres.nodes)) {
      const client = connect(lab(), node.host, node.port);
      await client.connect();
      try {
        const [row] = await query<{ recovery: boolean }>(client, 'SELECT pg_is_in_recovery() AS recovery');
        assert.equal(row?.recovery, name !== env.primary, `${name} role`);
        // Segments in the data directory, not /dev/shm: a SIGKILLed postmaster leaves none behind.
        const [dsm] = await query<{ type: string }>(
          client,
          "SELECT current_setting('dynamic_shared_memory_type') AS type",
        );
        assert.equal(dsm?.type, 'mmap', `${name} dynamic_shared_memory_type`);
        if (name === env.primary) {
          const reps = await query<{ name: string; state: string }>(
            client,
            'SELECT application_name AS name, state FROM pg_stat_replication ORDER BY 1',
          );
          assert.deepEqual(
            reps,
            env.replicas.map((r) => ({ name: r, state: 'streaming' })),
          );
        }
      } finally {
        await client.end();
      }
    }
  });

  test('a write through HAProxy lands on the primary and reaches the replicas', async () => {
    const env = lab().environment;
    const router = env.routers?.main;
    assert.ok(router);
    const viaRouter = connect(lab(), router.listen.host, router.listen.port);
    await viaRouter.connect();
    const marker = `lab-test-${process.pid}-${Date.now()}`;
    let lsn: string | undefined;
    try {
      const [where] = await query<{ addr: string }>(viaRouter, 'SELECT host(inet_server_addr()) AS addr');
      assert.equal(where?.addr, env.postgres.nodes[env.primary]?.host);
      await viaRouter.query('CREATE TABLE IF NOT EXISTS lab_test_writes (marker text PRIMARY KEY)');
      await viaRouter.query('INSERT INTO lab_test_writes VALUES ($1)', [marker]);
      [{ lsn } = { lsn: undefined }] = await query<{ lsn: string }>(
        viaRouter,
        'SELECT pg_current_wal_lsn() AS lsn',
      );
    } finally {
      await viaRouter.end();
    }
    const replica = env.postgres.nodes[env.replicas[0] ?? ''];
    if (!replica) return;
    const client = connect(lab(), replica.host, replica.port);
    await client.connect();
    try {
      // Wait for the replica to replay past the write, then look for it.
      const deadline = Date.now() + 5000;
      const replayed = async () =>
        (
          await query<{ ok: boolean }>(client, 'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok', [lsn])
        )[0]?.ok;
      while (!(await replayed())) {
        assert.ok(Date.now() < deadline, 'the replica did not replay the write within 5 s');
        await new Promise((r) => setTimeout(r, 20));
      }
      const rows = await query(client, 'SELECT 1 FROM lab_test_writes WHERE marker = $1', [marker]);
      assert.equal(rows.length, 1);
    } finally {
      await client.end();
    }
  });
});

describe('lab ssh', () => {
  test('runs a command on a node with the host key verified against known_hosts', async () => {
    const env = lab().environment;
    const host = env.ssh?.[env.primary];
    assert.ok(host);
    const ssh = new NodeSSH();
    await ssh.connect({
      host: host.host,
      port: host.port,
      username: host.user,
      privateKey: readSecret(host.privateKey),
      hostVerifier: knownHostsVerifier(host.knownHosts, host.host, host.port),
      readyTimeout: 5000,
    });
    try {
      const node = env.postgres.nodes[env.primary];
      const result = await ssh.execCommand(`whoami && ${node?.binDir}/pg_ctl -D ${node?.dataDir} status`);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`^${host.user}\\n`));
      assert.match(result.stdout, /server is running/);
    } finally {
      ssh.dispose();
    }
  });

  test('refuses a host whose key is not the pinned one', async () => {
    const env = lab().environment;
    const host = env.ssh?.[env.primary];
    assert.ok(host);
    const ssh = new NodeSSH();
    await assert.rejects(
      ssh.connect({
        host: host.host,
        port: host.port,
        username: host.user,
        privateKey: readSecret(host.privateKey),
        hostVerifier: (key: Buffer) =>
          knownHostsVerifier(host.knownHosts, host.host, host.port)(Buffer.concat([key, Buffer.from([0])])),
        readyTimeout: 5000,
      }),
      /verification failed/i,
    );
    ssh.dispose();
  });
});

describe('lab dns', () => {
  test('answers the primary address, and an API change is visible to the next query', async () => {
    const env = lab().environment;
    const zone = env.dns?.zones.lab;
    const record = env.dns?.records.db;
    assert.ok(zone?.apiUrl && record);
    const resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers(zone.nameservers.map((ns) => `${ns.host}:${ns.port}`));
    const primaryHost = env.postgres.nodes[env.primary]?.host ?? '';
    assert.deepEqual(await resolver.resolve4(record.name.replace(/\.$/, '')), [primaryHost]);

    const replace = (content: string) =>
      fetch(`${zone.apiUrl}/api/v1/servers/${zone.serverId}/zones/${zone.zone}`, {
        method: 'PATCH',
        headers: { 'X-API-Key': readSecret(zone.apiKey), 'Content-Type': 'application/json' },
        body: JSON.stringify({
          rrsets: [
            {
              name: record.name,
              type: 'A',
              ttl: record.ttl,
              changetype: 'REPLACE',
              records: [{ content, disabled: false }],
            },
          ],
        }),
      });
    const other = env.postgres.nodes[env.replicas[0] ?? '']?.host ?? '127.0.0.99';
    try {
      assert.equal((await replace(other)).status, 204);
      assert.deepEqual(await resolver.resolve4(record.name.replace(/\.$/, '')), [other]);
    } finally {
      assert.equal((await replace(primaryHost)).status, 204);
    }
  });
});

describe('lab slack', () => {
  test('the real Slack client posts and updates through the endpoint, and both are stored', async () => {
    const slack = lab().environment.slack;
    assert.ok(slack?.apiUrl);
    const client = new WebClient(readSecret(slack.token), { slackApiUrl: slack.apiUrl });
    const text = `lab test ${process.pid} ${Date.now()}`;
    const posted = await client.chat.postMessage({ channel: slack.channel, text });
    assert.ok(posted.ok && posted.ts && posted.channel);
    await client.chat.update({ channel: posted.channel, ts: posted.ts, text: `${text} (updated)` });
    const stored = readFileSync(`${lab().dir}/slack/messages.jsonl`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { method: string; ts: string; text: string });
    const mine = stored.filter((m) => m.ts === posted.ts);
    assert.deepEqual(
      mine.map((m) => [m.method, m.text]),
      [
        ['chat.postMessage', text],
        ['chat.update', `${text} (updated)`],
      ],
    );
  });
});
