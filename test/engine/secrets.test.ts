// Secrets end to end through the CLI: what leaves the process (Slack, webhooks, the journal, the
// reports, --json) carries no secret, children get only the DRILLBOOK_SECRET_* their step names,
// and the redactor keeps the journal's structure (keys, run id, event types) intact.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { startSlackServer } from '../../src/lab/slack-server.js';
import { httpStub } from '../routing/http-stub.js';
import { runCli, tempDir } from './helpers.js';

const INVENTORY = (extra = '') => `apiVersion: drillbook/v1
kind: Inventory
environments:
  test:
    label: staging
    primary: pg1
    replicas: [pg2]
    postgres:
      database: app
      user: app
      password: env:SECRETS_TEST_PGPASSWORD
      replicationPassword: file:REPL_FILE
      nodes:
        pg1: { host: 127.0.0.1, port: 1 }
        pg2: { host: 127.0.0.1, port: 2 }
${extra}`;

/** Writes the runbook and inventory into a fresh directory that is also the CLI's working directory. */
function files(t: TestContext, steps: string, inventoryExtra = '') {
  const dir = tempDir(t);
  const replFile = join(dir, 'repl-password');
  writeFileSync(replFile, 'repl-file-secret-9x\n');
  writeFileSync(join(dir, 'inventory.yaml'), INVENTORY(inventoryExtra).replace('REPL_FILE', replFile));
  writeFileSync(
    join(dir, 'rb.yaml'),
    `apiVersion: drillbook/v1\nkind: Runbook\nmetadata: { name: rb }\nsteps:\n${steps}`,
  );
  return dir;
}

const run = (t: TestContext, dir: string, args: string[], env: Record<string, string>) =>
  runCli(t, ['run', 'rb.yaml', '--env', 'test', '--inventory', 'inventory.yaml', ...args], {
    cwd: dir,
    env: { SECRETS_TEST_PGPASSWORD: 'pg-env-secret-7q', ...env },
  });

/** Every file under dir, as text (journal, reports, the Slack thread file). */
function allText(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
    .join('\n');
}

async function slackStandIn(t: TestContext, dir: string) {
  const token = 'xoxb-secrets-test-token';
  writeFileSync(join(dir, 'slack-token'), token);
  const server: Server = await startSlackServer({
    host: '127.0.0.1',
    port: 0,
    tokenFile: join(dir, 'slack-token'),
    messagesFile: join(dir, 'slack-messages.jsonl'),
  });
  t.after(() => server.close());
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
  return {
    token,
    inventory: `    slack: { token: env:SECRETS_TEST_SLACK, channel: "#drills", apiUrl: "${apiUrl}" }\n`,
    /** What the stand-in received: every posted and updated message. */
    received: () => readFileSync(join(dir, 'slack-messages.jsonl'), 'utf8'),
  };
}

test('notify and the run’s Slack thread send no secret to Slack or a webhook', async (t) => {
  const secret = 'tok3n-Sup3r-s3cret';
  const hook = await httpStub(() => ({ body: 'ok' }));
  t.after(() => hook.close());
  const steps = `  - { id: tell, kind: notify, with: { text: "token \${{ secrets.TOKEN }}" } }
  - { id: hook, kind: notify, with: { to: webhook, url: "${hook.url}/hooks/x", text: "token \${{ secrets.TOKEN }}" } }
`;
  const dir = files(t, steps);
  const slack = await slackStandIn(t, dir);
  writeFileSync(
    join(dir, 'inventory.yaml'),
    readFileSync(join(dir, 'inventory.yaml'), 'utf8') + slack.inventory,
  );
  // The run id holds the secret too: the thread's header names the run.
  const r = await run(t, dir, ['--run-id', `run-${secret}`], {
    DRILLBOOK_SECRET_TOKEN: secret,
    SECRETS_TEST_SLACK: slack.token,
  });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const received = slack.received();
  assert.match(received, /token \*\*\*/, 'the notify message reached Slack, redacted');
  assert.match(received, /run `run-\*\*\*`/, 'the thread header names the run, redacted');
  assert.ok(!received.includes(secret), `the secret reached Slack: ${received}`);
  assert.equal(hook.requests.length, 1);
  const body = JSON.parse(hook.requests[0]!.body) as { text: string };
  assert.equal(body.text, 'token ***');
  assert.ok(!hook.requests[0]!.body.includes(secret), 'the secret reached the webhook');
  // The terminal shows the run id as given (never redacted: it names the journal and the report).
  assert.doesNotMatch(r.stdout + r.stderr, /token tok3n/);
});

test('secrets the runbook never names are redacted, and children get only the DRILLBOOK_SECRET_* their step names', async (t) => {
  // drillbook's own environment (the nearest ancestor that has it: the shell may run under a
  // wrapper) still has DRILLBOOK_SECRET_OTHER: read it there.
  const steps = `  - { id: leak, kind: shell, with: { command: 'p=$PPID; while [ "$p" -gt 1 ] && ! grep -qz ^DRILLBOOK_SECRET_OTHER= /proc/$p/environ; do p=$(cut -d" " -f4 /proc/$p/stat); done; echo "$SECRETS_TEST_PGPASSWORD $(cat repl-password) $(tr "\\0" "\\n" </proc/$p/environ | grep ^DRILLBOOK_SECRET_OTHER= | cut -d= -f2)"' } }
  - { id: none, kind: shell, with: { command: 'env | grep ^DRILLBOOK_SECRET_ | cut -d= -f1 | sort | tr "\\n" " "' } }
  - { id: named, kind: shell, with: { command: 'test -n "\${{ secrets.USED }}" && env | grep ^DRILLBOOK_SECRET_ | cut -d= -f1 | sort | tr "\\n" " "' } }
`;
  const dir = files(t, steps);
  const r = await run(t, dir, ['--json', '--run-id', 'children'], {
    DRILLBOOK_SECRET_OTHER: 'other-unnamed-secret',
    DRILLBOOK_SECRET_USED: 'used-named-secret',
  });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const written = `${r.stdout}\n${r.stderr}\n${allText(join(dir, '.drillbook'))}\n${allText(join(dir, 'reports'))}`;
  for (const value of [
    'pg-env-secret-7q',
    'other-unnamed-secret',
    'repl-file-secret-9x',
    'used-named-secret',
  ])
    assert.ok(!written.includes(value), `${value} was written out`);
  const outputs = Object.fromEntries(
    r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; stepId?: string; outputs?: { stdout: string } })
      .filter((e) => e.type === 'step-finished')
      .map((e) => [e.stepId, e.outputs?.stdout]),
  );
  assert.deepEqual(outputs, {
    leak: '*** *** ***',
    none: '',
    named: 'DRILLBOOK_SECRET_USED',
  });
});

test('a secret equal to a journal key or inside the run id leaves the journal and the reports intact', async (t) => {
  const dir = files(t, `  - { id: s, kind: shell, with: { command: 'echo \${{ secrets.WORD }} type' } }\n`);
  const r = await run(t, dir, ['--run-id', 'prototype-1'], { DRILLBOOK_SECRET_WORD: 'type' });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /run-started|succeeded/, 'the run printed its progress');
  const journal = readFileSync(join(dir, '.drillbook/runs/prototype-1/journal.jsonl'), 'utf8');
  const [header, ...events] = journal
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(header?.type, 'journal');
  assert.equal(header?.runId, 'prototype-1');
  assert.ok(events.every((e) => typeof e.type === 'string' && !String(e.type).includes('***')));
  const finished = events.find((e) => e.type === 'step-finished') as { outputs: { stdout: string } };
  assert.equal(finished.outputs.stdout, '*** ***');
  assert.ok(
    existsSync(join(dir, 'reports')) && readdirSync(join(dir, 'reports'))[0]?.endsWith('-rb-prototype-1'),
  );
  const report = await runCli(t, ['report', 'prototype-1'], { cwd: dir });
  assert.equal(report.code, 0, report.stderr);
});

test('a secret shorter than 4 characters is refused before anything runs, named but not shown', async (t) => {
  const dir = files(t, `  - { id: s, kind: shell, with: { command: 'touch ran' } }\n`);
  const r = await run(t, dir, [], { DRILLBOOK_SECRET_SHORT: 'q7z' });
  assert.equal(r.code, 2, r.stderr + r.stdout);
  assert.match(r.stderr, /DRILLBOOK_SECRET_SHORT.*shorter than 4 characters/);
  assert.ok(!(r.stdout + r.stderr).includes('q7z'));
  assert.ok(!existsSync(join(dir, 'ran')), 'the step ran');
  assert.ok(!existsSync(join(dir, '.drillbook/runs')), 'a journal was started');
});
