// A drill's restore is a session like any run: its secrets registered with the redactor, its
// journal header redacted, its reports written, its Slack thread kept in the given state
// directory. Runs without the lab: a Slack stand-in on loopback and local shell steps.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runRestore } from '../../src/drill/restore.js';
import { journalPath, runDir } from '../../src/system/run-paths.js';
import { startSlackServer } from '../../src/lab/slack-server.js';

const SECRET = 'restore-s3cret-value-81';

test('a restore runbook that reads a secret leaves no value in its journal, writes its reports and its Slack thread in the state directory', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'drillbook-restore-session-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'slack-token'), 'xoxb-restore-test');
  const slack = await startSlackServer({
    host: '127.0.0.1',
    port: 0,
    tokenFile: join(dir, 'slack-token'),
    messagesFile: join(dir, 'slack-messages.jsonl'),
  });
  t.after(() => slack.close());
  const apiUrl = `http://127.0.0.1:${(slack.address() as AddressInfo).port}/api/`;
  writeFileSync(
    join(dir, 'inventory.yaml'),
    `apiVersion: drillbook/v1
kind: Inventory
environments:
  test:
    label: staging
    primary: pg1
    replicas: [pg2]
    postgres:
      database: app
      user: app
      nodes:
        pg1: { host: 127.0.0.1, port: 1 }
        pg2: { host: 127.0.0.1, port: 2 }
    slack: { token: env:RESTORE_TEST_SLACK, channel: "#drills", apiUrl: "${apiUrl}" }
`,
  );
  writeFileSync(
    join(dir, 'restore.yaml'),
    `apiVersion: drillbook/v1
kind: Runbook
metadata: { name: restore }
inputs:
  current: { type: string }
steps:
  - { id: tell, kind: notify, with: { text: "restoring with \${{ secrets.RESTORE_TOKEN }}" } }
  - { id: echo, kind: shell, with: { command: 'echo "\${{ secrets.RESTORE_TOKEN }} \${{ inputs.current }}"' } }
`,
  );
  process.env.DRILLBOOK_SECRET_RESTORE_TOKEN = SECRET;
  process.env.RESTORE_TEST_SLACK = 'xoxb-restore-test';
  t.after(() => {
    delete process.env.DRILLBOOK_SECRET_RESTORE_TOKEN;
    delete process.env.RESTORE_TEST_SLACK;
  });
  const stateDir = join(dir, 'state');
  const reportsDir = join(dir, 'reports');
  const lines: string[] = [];
  const outcome = await runRestore({
    restoreFile: join(dir, 'restore.yaml'),
    inventoryFile: join(dir, 'inventory.yaml'),
    envName: 'test',
    // The drill passes what it knows; a secret there must not reach the journal's header either.
    inputs: { current: SECRET },
    stateDir,
    reportsDir,
    io: { out: (l) => lines.push(l), err: (l) => lines.push(l) },
  });
  assert.equal(outcome.status, 'succeeded', `${outcome.error}\n${lines.join('\n')}`);
  const runId = outcome.runId!;

  const journal = readFileSync(journalPath(stateDir, runId), 'utf8');
  assert.ok(!journal.includes(SECRET), `the secret is in the restore's journal:\n${journal}`);
  const [header] = journal.split('\n').map((l) => l && (JSON.parse(l) as Record<string, unknown>));
  assert.deepEqual((header as { inputs: unknown }).inputs, { current: '***' }, 'the header is redacted');
  assert.match(journal, /"stdout":"\*\*\* \*\*\*"/, 'the step ran and its output is redacted');

  const reports = readdirSync(reportsDir);
  assert.equal(reports.length, 1, `one report directory: ${reports.join(', ')}`);
  assert.ok(reports[0]!.endsWith(`-restore-${runId}`));
  const html = readFileSync(join(reportsDir, reports[0]!, 'report.html'), 'utf8');
  assert.ok(!html.includes(SECRET), 'the secret is in the report');
  assert.ok(
    lines.some((l) => /^report: .*report\.html$/.test(l)),
    `the report's place is said: ${lines}`,
  );

  // notify and the run's thread share one thread file, in the session's state directory.
  const threads = JSON.parse(readFileSync(join(runDir(stateDir, runId), 'slack-thread.json'), 'utf8'));
  assert.ok(threads['#drills'] && threads['#drills header'], JSON.stringify(threads));
  const received = readFileSync(join(dir, 'slack-messages.jsonl'), 'utf8');
  assert.match(received, /restoring with \*\*\*/, 'the notify step reached Slack, redacted');
  assert.ok(!received.includes(SECRET), 'the secret reached Slack');
  assert.ok(!existsSync(join(dir, 'state', 'locks')), 'the restore took no lock (the drill holds it)');
});
