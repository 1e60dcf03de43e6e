// The Slack endpoint in-process, driven by the real @slack/web-api client.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WebClient, WebClientEvent } from '@slack/web-api';
import { startSlackServer, type StoredSlackMessage } from '../../src/lab/slack-server.js';

const TOKEN = 'xoxb-test-token';

describe('slack endpoint', () => {
  const dir = mkdtempSync(join(tmpdir(), 'drillbook-slack-'));
  const messagesFile = join(dir, 'messages.jsonl');
  let server: Server;
  let apiUrl: string;
  let base: string;

  before(async () => {
    writeFileSync(join(dir, 'token'), TOKEN);
    server = await startSlackServer({
      host: '127.0.0.1',
      port: 0,
      tokenFile: join(dir, 'token'),
      messagesFile,
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    apiUrl = `${base}/api/`;
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const client = (token = TOKEN) =>
    new WebClient(token, {
      slackApiUrl: apiUrl,
      retryConfig: { retries: 2, minTimeout: 10, maxTimeout: 10 },
    });
  const stored = () =>
    readFileSync(messagesFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as StoredSlackMessage);

  test('auth.test answers with the lab identity', async () => {
    const answer = await client().auth.test();
    assert.equal(answer.ok, true);
    assert.equal(answer.user_id, 'U0DRILLBOOK');
  });

  test('a wrong token is invalid_auth', async () => {
    await assert.rejects(client('xoxb-wrong').auth.test(), (err: Error & { data?: { error?: string } }) => {
      assert.equal(err.data?.error, 'invalid_auth');
      return true;
    });
  });

  test('an unknown method is unknown_method', async () => {
    await assert.rejects(client().apiCall('reactions.add', { channel: '#drills' }), /unknown_method/);
  });

  test('posts get unique increasing ts, threads and blocks are kept, updates are recorded', async () => {
    const c = client();
    const first = await c.chat.postMessage({ channel: '#drills', text: 'drill started' });
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*step* ok' } }];
    const second = await c.chat.postMessage({
      channel: '#drills',
      text: 'step ok',
      blocks,
      thread_ts: first.ts,
    });
    assert.ok(first.ts && second.ts && Number(second.ts) > Number(first.ts));
    assert.equal(first.channel, second.channel);
    assert.match(first.channel ?? '', /^C[A-Z0-9]+$/);
    assert.equal(second.message?.thread_ts, first.ts);

    const updated = await c.chat.update({
      channel: first.channel ?? '',
      ts: first.ts ?? '',
      text: 'drill passed',
    });
    assert.equal(updated.ts, first.ts);
    await assert.rejects(
      c.chat.update({ channel: first.channel ?? '', ts: '1.000001', text: 'x' }),
      /message_not_found/,
    );
    await assert.rejects(c.chat.postMessage({ channel: '#drills', text: '' }), /no_text/);

    const lines = stored();
    assert.deepEqual(
      lines.map((m) => [m.method, m.ts, m.text]),
      [
        ['chat.postMessage', first.ts, 'drill started'],
        ['chat.postMessage', second.ts, 'step ok'],
        ['chat.update', first.ts, 'drill passed'],
      ],
    );
    assert.deepEqual(lines[1]?.blocks, blocks);
    assert.equal(lines[1]?.threadTs, first.ts);
  });

  test('the control endpoints want the token too', async () => {
    for (const headers of [{}, { Authorization: 'Bearer xoxb-wrong' }] as Record<string, string>[]) {
      const messages = await fetch(`${base}/_control/messages`, { headers });
      assert.equal(messages.status, 401);
      assert.deepEqual(await messages.json(), {
        ok: false,
        error: 'Authorization' in headers ? 'invalid_auth' : 'not_authed',
      });
      const limit = await fetch(`${base}/_control/rate-limit`, {
        method: 'POST',
        headers: { ...headers, 'Content-Type': 'application/json' },
        body: JSON.stringify({ count: 5 }),
      });
      assert.equal(limit.status, 401);
    }
    // The refused rate-limit request set nothing: the next call goes through.
    assert.equal((await client().chat.postMessage({ channel: '#drills', text: 'not limited' })).ok, true);
    const ok = await fetch(`${base}/_control/messages`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200);
  });

  test('answers 429 with Retry-After on request, and the client retries', async () => {
    const control = await fetch(`${base}/_control/rate-limit`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ count: 1, retryAfter: 1 }),
    });
    assert.equal(control.status, 200);
    const c = client();
    let rateLimited = 0;
    c.on(WebClientEvent.RATE_LIMITED, () => (rateLimited += 1));
    const started = Date.now();
    const answer = await c.chat.postMessage({ channel: '#drills', text: 'after the limit' });
    assert.equal(answer.ok, true);
    assert.equal(rateLimited, 1);
    assert.ok(Date.now() - started >= 1000, 'the client waited for Retry-After');
  });

  test('JSON bodies work as well as form-encoded ones', async () => {
    const res = await fetch(`${apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ channel: '#drills', text: 'as json' }),
    });
    const body = (await res.json()) as { ok: boolean; ts: string };
    assert.equal(body.ok, true);
    assert.equal(stored().at(-1)?.text, 'as json');
  });
});
