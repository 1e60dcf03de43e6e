// notify: the real @slack/web-api client against the lab's Slack endpoint (thread per run, Block
// Kit, 429 retried, refused token), and the JSON webhook against a local stub.
import assert from 'node:assert/strict';
// The registry first (see route.test.ts: an import cycle through runbook/targets.ts).
import '../../src/actions/registry.js';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { after, describe, test } from 'node:test';
import { notify } from '../../src/actions/notify.js';
import { slackThreadFile } from '../../src/connectors/slack-thread.js';
import { stateDirOf } from '../../src/system/run-paths.js';
import { StepFailure, UserError } from '../../src/errors.js';
import type { StoredSlackMessage } from '../../src/lab/slack-server.js';
import type { Environment } from '../../src/schema/inventory.js';
import { readSecret, requireLab, slackControl } from '../helpers/lab.js';
import { actionContext, failureOf } from './context.js';
import { httpStub } from './http-stub.js';

const runIds: string[] = [];
/** A context with a run id of its own; its run directory (the thread file) is removed after the suite. */
function runContext(env: Environment, runId = `notify-test-${process.pid}-${runIds.length}`) {
  runIds.push(runId);
  return actionContext(env, { runId });
}
after(() => {
  for (const id of runIds)
    rmSync(dirname(slackThreadFile(id, stateDirOf())), { recursive: true, force: true });
});

async function messages(env: Environment): Promise<StoredSlackMessage[]> {
  const answer = await slackControl(env, '_control/messages');
  return ((await answer.json()) as { messages: StoredSlackMessage[] }).messages;
}

describe('notify to Slack (lab endpoint)', () => {
  test('the first notification opens the run’s thread, later ones reply in it, also after a resume', async (t) => {
    const l = requireLab(t);
    if (!l) return;
    const env = l.environment;
    const ctx = runContext(env);
    const first = await notify.run!(ctx, { text: 'Failing over lab', severity: 'critical' });
    assert.equal(first.thread, 'opened');
    // A resumed run is a new process: a fresh context with the same run id.
    const resumed = actionContext(env, { runId: ctx.runId, stepId: 'later' });
    const second = await notify.run!(resumed, { text: 'pg2 promoted' });
    assert.equal(second.thread, 'reply');
    assert.equal(second.threadTs, first.ts);

    const stored = (await messages(env)).filter((m) => m.ts === first.ts || m.ts === second.ts);
    const [opened, reply] = stored;
    assert.equal(opened?.threadTs, undefined);
    assert.equal(reply?.threadTs, first.ts);
    assert.equal(reply?.channel, opened?.channel);
    assert.match(String(opened?.text), /Failing over lab/);
    const blocks = opened?.blocks as { type: string; elements?: { text: string }[] }[];
    assert.deepEqual(
      blocks.map((b) => b.type),
      ['section', 'context'],
    );
    assert.match(blocks[1]!.elements![0]!.text, new RegExp(`critical.*environment \\*lab\\*.*${ctx.runId}`));
  });

  test('a 429 with Retry-After is waited out by the client’s retry', async (t) => {
    const l = requireLab(t);
    if (!l) return;
    const env = l.environment;
    await slackControl(env, '_control/rate-limit', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count: 1, retryAfter: 1 }),
    });
    const ctx = runContext(env);
    const started = Date.now();
    const out = await notify.run!(ctx, { text: 'after a rate limit' });
    assert.ok(Date.now() - started >= 1000, 'waited Retry-After (1 s)');
    assert.equal(out.thread, 'opened');
    assert.ok(
      ctx.logs.some((m) => /rate limit/i.test(m)),
      `the wait is logged: ${ctx.logs.join(' | ')}`,
    );
  });

  test('a refused token is a clear, non-retryable failure that does not show the token', async (t) => {
    const l = requireLab(t);
    if (!l) return;
    const env: Environment = structuredClone(l.environment);
    process.env.DRILLBOOK_TEST_BAD_SLACK = 'xoxb-not-the-token';
    env.slack!.token = 'env:DRILLBOOK_TEST_BAD_SLACK';
    const err = await failureOf(notify.run!(runContext(env), { text: 'x' }));
    assert.ok(err instanceof StepFailure);
    assert.match(
      err.message,
      /^slack http:\/\/127\.0\.0\.1:\d+\/api\/ #drills: chat\.postMessage was refused: invalid_auth$/,
    );
    assert.equal(err.retryable, false);
    assert.doesNotMatch(err.message, /xoxb-not-the-token/);
    assert.doesNotMatch(err.message, new RegExp(readSecret(l.environment.slack!.token)));
  });

  test('an unreachable Slack is a retryable failure naming the endpoint', async (t) => {
    const l = requireLab(t);
    if (!l) return;
    const env: Environment = structuredClone(l.environment);
    env.slack!.apiUrl = 'http://127.0.0.1:9/api/';
    const err = await failureOf(notify.run!(runContext(env), { text: 'x' }));
    assert.ok(err instanceof StepFailure);
    assert.match(
      err.message,
      /^slack http:\/\/127\.0\.0\.1:9\/api\/ #drills: chat\.postMessage failed: .*ECONNREFUSED/,
    );
    assert.equal(err.retryable, true);
  });
});

describe('notify to a webhook', () => {
  const env = {
    label: 'staging',
    primary: 'pg1',
    replicas: [],
    postgres: { database: 'd', user: 'u', nodes: {} },
  };

  test('POSTs the message as JSON', async () => {
    const stub = await httpStub(() => ({ body: 'ok' }));
    try {
      const ctx = runContext(env as unknown as Environment);
      const out = await notify.run!(ctx, {
        to: 'webhook',
        url: `${stub.url}/hooks/T000/SECRETPATH`,
        text: 'Failing over',
        severity: 'warning',
      });
      assert.deepEqual(out, { to: 'webhook', url: stub.url });
      const [req] = stub.requests;
      assert.equal(req?.method, 'POST');
      assert.equal(req?.path, '/hooks/T000/SECRETPATH');
      assert.equal(req?.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(req!.body), {
        text: 'Failing over',
        severity: 'warning',
        environment: 'lab',
        runId: ctx.runId,
        stepId: 'step',
      });
    } finally {
      await stub.close();
    }
  });

  test('an error answer is a failure naming the origin, never the secret path', async () => {
    const stub = await httpStub(() => ({ status: 503, body: 'down for maintenance' }));
    try {
      const err = await failureOf(
        notify.run!(runContext(env as unknown as Environment), {
          to: 'webhook',
          url: `${stub.url}/hooks/SECRETPATH`,
          text: 'x',
        }),
      );
      assert.ok(err instanceof StepFailure);
      assert.equal(err.message, `webhook ${stub.url}: POST answered HTTP 503: down for maintenance`);
      assert.equal(err.retryable, true);
    } finally {
      await stub.close();
    }
  });

  test('a webhook without url is bad input', async () => {
    await assert.rejects(
      notify.run!(runContext(env as unknown as Environment), { to: 'webhook', text: 'x' }),
      UserError,
    );
  });
});
