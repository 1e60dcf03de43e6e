// notify keeps the run's Slack thread in the session's state directory (its context's stateDir),
// never in the machine's default one: a run with --state-dir and its notify steps share one thread.
import assert from 'node:assert/strict';
// The registry first (see route.test.ts: an import cycle through runbook/targets.ts).
import '../../src/actions/registry.js';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { notify } from '../../src/actions/notify.js';
import { slackThreadFile } from '../../src/connectors/slack-thread.js';
import { runDir, stateDirOf } from '../../src/system/run-paths.js';
import { startSlackServer } from '../../src/lab/slack-server.js';
import type { Environment } from '../../src/schema/inventory.js';
import { actionContext } from './context.js';

test('notify writes the run’s thread file in the session’s state directory', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'drillbook-notify-state-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'slack-token'), 'xoxb-notify-state');
  const slack = await startSlackServer({
    host: '127.0.0.1',
    port: 0,
    tokenFile: join(dir, 'slack-token'),
    messagesFile: join(dir, 'slack-messages.jsonl'),
  });
  t.after(() => slack.close());
  const env = {
    primary: 'pg1',
    replicas: [],
    label: 'staging',
    postgres: { database: 'app', user: 'app', nodes: { pg1: { host: '127.0.0.1', port: 1 } } },
    slack: {
      token: `file:${join(dir, 'slack-token')}`,
      channel: '#drills',
      apiUrl: `http://127.0.0.1:${(slack.address() as AddressInfo).port}/api/`,
    },
  } as unknown as Environment;
  const stateDir = join(dir, 'state');
  const runId = `notify-state-${process.pid}`;
  t.after(() => rmSync(runDir(stateDirOf(), runId), { recursive: true, force: true }));

  const first = await notify.run!(actionContext(env, { runId, stateDir }), { text: 'opening' });
  const second = await notify.run!(actionContext(env, { runId, stateDir, stepId: 'later' }), {
    text: 'reply',
  });
  assert.equal(first.thread, 'opened');
  assert.equal(
    second.thread,
    'reply',
    'the second notification found the thread in the same state directory',
  );
  assert.equal(second.threadTs, first.ts);
  const threads = JSON.parse(readFileSync(slackThreadFile(runId, stateDir), 'utf8'));
  assert.equal(threads['#drills'].ts, first.ts);
  assert.ok(!existsSync(runDir(stateDirOf(), runId)), 'a thread file went to the default state directory');
});
