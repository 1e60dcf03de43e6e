// drillbook serve over real HTTP, without a PostgreSQL lab: the Alertmanager receiver (auth, bad
// input, dedup, busy environments, resolved alerts) and approvals by Slack click (through the lab's
// Slack endpoint and its interactive callback) and by `drillbook approve`. The runbook waits and
// asks; nothing in it needs a database.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { get as httpsGet } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { slackSignature } from '../../src/connectors/slack-signature.js';
import { boxAsk } from '../../src/engine/approval-box.js';
import { operatorName } from '../../src/engine/new-run.js';
import { readJournal } from '../../src/engine/journal.js';
import { UserError } from '../../src/errors.js';
import { startSlackServer } from '../../src/lab/slack-server.js';
import { startServe, stopServe } from '../../src/serve/command.js';
import { loadTriggers } from '../../src/serve/triggers.js';
import { journalPath } from '../../src/system/run-paths.js';
import { alert, payload, until } from '../helpers/alertmanager.js';
import { cli } from '../helpers/cli.js';

const TOKEN = 'alertmanager-token-0123456789';
const HMAC = 'hmac-secret-0123456789';
const SIGNING = 'slack-signing-secret-0123456789';
const SLACK_TOKEN = 'xoxb-test-0123456789';
const APPROVER = 'U0APPROVER';

const dir = mkdtempSync(join(tmpdir(), 'drillbook-serve-'));
const stateDir = join(dir, 'state');
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text, { mode: 0o600 });
  return join(dir, name);
};
const lines: string[] = [];
const io = { out: (t: string) => lines.push(t), err: (t: string) => lines.push(t) };
let slack: Server;
let slackUrl: string;
let serve: Awaited<ReturnType<typeof startServe>>;

const env = (label: string, slackApi: string, extra = '') => `
    label: ${label}
    primary: pg1
    replicas: []
    postgres: { database: app, user: app, nodes: { pg1: { host: 127.0.0.171, port: 16570 } } }
    slack:
      token: file:${join(dir, 'slack-token')}
      channel: "#ops"
      apiUrl: ${slackApi}
      signingSecret: file:${join(dir, 'signing')}
      approvers: [${APPROVER}]${extra}`;

before(async () => {
  file('slack-token', SLACK_TOKEN);
  file('signing', SIGNING);
  file('token', TOKEN);
  file('hmac', HMAC);
  slack = await startSlackServer({
    host: '127.0.0.1',
    port: 0,
    tokenFile: join(dir, 'slack-token'),
    signingSecretFile: join(dir, 'signing'),
    messagesFile: join(dir, 'messages.jsonl'),
  });
  slackUrl = `http://127.0.0.1:${(slack.address() as AddressInfo).port}`;
  file(
    'inventory.yaml',
    `apiVersion: drillbook/v1
kind: Inventory
environments:
  prod:${env('production', `${slackUrl}/api/`)}
  stage:${env('staging', `${slackUrl}/api/`)}
`,
  );
  file(
    'runbook.yaml',
    `apiVersion: drillbook/v1
kind: Runbook
metadata: { name: alert-approve }
inputs:
  instance: { type: string }
steps:
  - id: go-ahead
    kind: approve
    with: { message: "Fail over \${{ inputs.instance }}?" }
  - id: settle
    kind: wait
    with: { duration: 200ms }
`,
  );
  file(
    'settled.yaml',
    `apiVersion: drillbook/v1
kind: Runbook
metadata: { name: settled }
inputs:
  instance: { type: string, default: "" }
steps:
  - id: settle
    kind: wait
    with: { duration: 50ms }
`,
  );
  file(
    'triggers.yaml',
    `apiVersion: drillbook/v1
kind: Triggers
receiver: { token: file:${join(dir, 'token')}, hmacSecret: file:${join(dir, 'hmac')} }
inventory: inventory.yaml
triggers:
  - name: primary-down
    match: { alertname: PostgresPrimaryDown, env: "~prod|stage|nowhere" }
    runbook: runbook.yaml
    environment: \${{ alert.labels.env }}
    inputs: { instance: "\${{ alert.labels.instance }}" }
  - name: lag
    match: { alertname: ReplicaLag }
    runbook: runbook.yaml
    onResolved: settled.yaml
    environment: stage
    inputs: { instance: "\${{ alert.labels.instance }}" }
`,
  );
  serve = await startServe(
    {
      listen: '127.0.0.1:0',
      triggersFile: join(dir, 'triggers.yaml'),
      stateDir,
      reportsDir: join(dir, 'reports'),
    },
    io,
  );
  await control('/_control/interactivity', { url: `${serve.url}/hooks/slack/actions` });
});

let stopped = false;
after(async () => {
  if (!stopped) await stopServe(serve, 'interrupt');
  await new Promise((r) => slack.close(r));
  rmSync(dir, { recursive: true, force: true });
});

async function control(path: string, body?: object) {
  const res = await fetch(`${slackUrl}${path}`, {
    method: body ? 'POST' : 'GET',
    headers: { authorization: `Bearer ${SLACK_TOKEN}`, 'content-type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  return (await res.json()) as Record<string, unknown>;
}

async function post(body: string, headers: Record<string, string> = signed(body)) {
  const res = await fetch(`${serve.url}/hooks/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return {
    status: res.status,
    body: (await res.json()) as { alerts?: { outcome: string; runId?: string }[] },
  };
}

function signed(body: string, token = TOKEN, hmac = HMAC) {
  return {
    authorization: `Bearer ${token}`,
    'x-drillbook-signature': 'sha256=' + createHmac('sha256', hmac).update(body).digest('hex'),
  };
}

const runs = () => (existsSync(join(stateDir, 'runs')) ? readdirSync(join(stateDir, 'runs')) : []);

describe('drillbook serve: the Alertmanager receiver', () => {
  it('refuses an unauthenticated, wrongly authenticated or wrongly signed webhook with 401 and runs nothing', async () => {
    const body = payload(alert({ env: 'prod' }, { fingerprint: 'auth' }));
    assert.equal((await post(body, {})).status, 401);
    assert.equal((await post(body, signed(body, 'wrong-token-0123456789'))).status, 401);
    assert.equal((await post(body, signed(body, TOKEN, 'wrong-hmac-0123456789'))).status, 401);
    assert.equal((await post(body, { authorization: `Bearer ${TOKEN}` })).status, 401);
    assert.deepEqual(runs(), []);
    assert.match(
      serve.app ? await (await fetch(`${serve.url}/metrics`)).text() : '',
      /drillbook_alerts_total\{outcome="unauthenticated"\} 4/,
    );
  });

  it('refuses malformed JSON and payloads of another version with 400', async () => {
    const bad = '{"version": "4", "alerts": [';
    const res = await post(bad);
    assert.equal(res.status, 400);
    assert.equal((await post(JSON.stringify({ version: '3', alerts: [] }))).status, 400);
    assert.deepEqual(runs(), []);
  });

  it('records an alert for an environment the inventory lacks, and runs nothing', async () => {
    const res = await post(payload(alert({ env: 'nowhere' }, { fingerprint: 'nowhere' })));
    assert.equal(res.status, 202);
    assert.equal(res.body.alerts?.[0]?.outcome, 'unknown-environment');
    assert.match(
      readFileSync(join(stateDir, 'serve', 'alerts.jsonl'), 'utf8'),
      /"outcome":"unknown-environment"/,
    );
    assert.deepEqual(runs(), []);
  });

  it('never starts the firing runbook from a resolved notification', async () => {
    const res = await post(payload(alert({ env: 'prod' }, { status: 'resolved', fingerprint: 'gone' })));
    assert.equal(res.body.alerts?.[0]?.outcome, 'resolved-ignored');
    assert.deepEqual(runs(), []);
  });

  it('starts the onResolved runbook, never the firing one, from a resolved notification', async () => {
    const res = await post(
      payload(alert({ alertname: 'ReplicaLag', env: 'stage' }, { status: 'resolved', fingerprint: 'lag' })),
    );
    assert.equal(res.body.alerts?.[0]?.outcome, 'started');
    const runId = res.body.alerts![0]!.runId!;
    assert.equal(await serve.running.get(runId)?.done, 0);
    const { header } = readJournal(journalPath(stateDir, runId));
    assert.equal(header.runbook.name, 'settled');
    assert.equal(header.trigger?.status, 'resolved');
    rmSync(join(stateDir, 'runs', runId), { recursive: true });
  });

  it('serves over TLS when given a certificate and key', async () => {
    const cert = join(dir, 'tls.crt');
    const key = join(dir, 'tls.key');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-days',
        '1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    const tls = await startServe(
      {
        listen: '127.0.0.1:0',
        triggersFile: join(dir, 'triggers.yaml'),
        stateDir,
        tlsCert: cert,
        tlsKey: key,
      },
      io,
    );
    try {
      assert.match(tls.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const body = await new Promise<string>((resolveBody, reject) => {
        httpsGet(`${tls.url}/healthz`, { ca: readFileSync(cert) }, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolveBody(text));
        }).on('error', reject);
      });
      assert.match(body, /"ok":true/);
    } finally {
      await stopServe(tls, 'interrupt');
    }
  });

  it('refuses a non-loopback address without TLS', async () => {
    await assert.rejects(
      startServe({ listen: '0.0.0.0:0', triggersFile: join(dir, 'triggers.yaml'), stateDir }, io),
      (err: Error) => err instanceof UserError && /not loopback/.test(err.message),
    );
  });
});

describe('drillbook serve: a run started by an alert, approved by Slack click', () => {
  it('starts one run per alert, counts the duplicate, records a busy environment, and takes the approval from an allowed, signed, single-use click', async () => {
    const first = await post(payload(alert({ env: 'prod' })));
    assert.equal(first.status, 202);
    assert.equal(first.body.alerts?.[0]?.outcome, 'started');
    const runId = first.body.alerts[0]!.runId!;
    assert.equal((await post(payload(alert({ env: 'prod' })))).body.alerts?.[0]?.outcome, 'deduplicated');
    const other = await post(payload(alert({ env: 'prod' }, { fingerprint: 'beef' })));
    assert.equal(other.body.alerts?.[0]?.outcome, 'busy');

    // The approval question arrives in Slack with its buttons.
    const message = await until('the approval buttons', async () => {
      const { messages } = (await control('/_control/messages')) as {
        messages: { ts: string; text?: string; blocks?: unknown }[];
      };
      return messages.find(
        (m) => m.blocks && m.text?.includes(`run ${runId}`) && m.text.includes('Approval needed'),
      );
    });
    assert.match(message.text!, /Fail over pg1:5432\?/);

    // Someone not on the allow-list: refused and recorded; the run keeps waiting.
    const stranger = (await control('/_control/click', {
      ts: message.ts,
      actionId: 'drillbook-approve',
      user: { id: 'U0STRANGER' },
    })) as { status: number };
    assert.equal(stranger.status, 403);
    assert.match(
      readFileSync(join(stateDir, 'runs', runId, 'approvals', 'clicks.jsonl'), 'utf8'),
      /U0STRANGER.*refused/,
    );
    assert.ok(serve.running.has(runId));

    // The approver's click, then the same request replayed, and a late Reject: one effect only.
    const click = (await control('/_control/click', {
      ts: message.ts,
      actionId: 'drillbook-approve',
      user: { id: APPROVER, username: 'alice' },
    })) as {
      status: number;
      request: { url: string; headers: Record<string, string>; body: string };
    };
    assert.equal(click.status, 200);
    const replay = await fetch(click.request.url, {
      method: 'POST',
      headers: click.request.headers,
      body: click.request.body,
    });
    assert.equal(replay.status, 200);
    assert.match(await replay.text(), /already answered/);

    // Unsigned, wrongly signed or stale copies are refused before anything is read.
    const { body } = click.request;
    const ts = String(Math.floor(Date.now() / 1000));
    const slackPost = (headers: Record<string, string>) =>
      fetch(click.request.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body,
      });
    assert.equal((await slackPost({})).status, 401);
    assert.equal(
      (
        await slackPost({
          'x-slack-request-timestamp': ts,
          'x-slack-signature': slackSignature('not-the-secret', ts, body),
        })
      ).status,
      401,
    );
    const old = String(Math.floor(Date.now() / 1000) - 600);
    assert.equal(
      (
        await slackPost({
          'x-slack-request-timestamp': old,
          'x-slack-signature': slackSignature(SIGNING, old, body),
        })
      ).status,
      401,
    );

    const code = await serve.running.get(runId)!.done;
    assert.equal(code, 0);
    assert.deepEqual(runs(), [runId]);
    const journal = readJournal(journalPath(stateDir, runId));
    assert.equal(journal.header.trigger?.fingerprint, 'f00d');
    assert.equal(journal.header.trigger?.alertname, 'PostgresPrimaryDown');
    const granted = journal.events.filter((e) => e.type === 'approval-granted');
    assert.equal(granted.length, 1);
    assert.match(JSON.stringify(granted[0]), /U0APPROVER \(alice\) via slack/);
    assert.ok(journal.events.some((e) => e.type === 'log' && /U0STRANGER.*refused/.test(e.message)));
    assert.ok(
      journal.events.some(
        (e) => e.type === 'log' && /started by alert PostgresPrimaryDown firing/.test(e.message),
      ),
    );

    // The report names the alert and who approved, how.
    const reportDir = readdirSync(join(dir, 'reports')).find((d) => d.endsWith(runId));
    const markdown = readFileSync(join(dir, 'reports', reportDir!, 'report.md'), 'utf8');
    assert.match(
      markdown,
      /Started by \| alert PostgresPrimaryDown firing since 2026-11-29T10:00:00Z \(fingerprint f00d/,
    );
    assert.match(markdown, /U0APPROVER \(alice\) via slack/);

    const metrics = await (await fetch(`${serve.url}/metrics`)).text();
    assert.match(metrics, /drillbook_alerts_total\{outcome="started"\} 2/);
    assert.match(metrics, /drillbook_alerts_total\{outcome="deduplicated"\} 1/);
    assert.match(metrics, /drillbook_alerts_total\{outcome="busy"\} 1/);
    assert.match(metrics, /drillbook_runs\{status="succeeded"\} 2/);
    assert.match(metrics, /drillbook_approval_answers_total\{outcome="refused"\} 1/);
    assert.match(metrics, /drillbook_approval_answers_total\{outcome="replayed"\} 1/);
    assert.match(metrics, /drillbook_approval_wait_seconds_count 1\n/);
    assert.match(await (await fetch(`${serve.url}/healthz`)).text(), /"ok":true/);
  });
});

describe('drillbook approve', () => {
  const ask = (runId: string, requester: string) =>
    boxAsk({ stateDir, runId, environment: 'prod', requester, fourEyes: true, pollMs: 20 })(
      { stepId: 'go-ahead', message: 'go?' },
      new AbortController().signal,
    );

  it('answers a waiting approval with who, how and why; four eyes refuses the requester; a second answer changes nothing', async () => {
    const mine = ask('cli-own-run', operatorName());
    await until('the pending approval', () =>
      existsSync(join(stateDir, 'runs', 'cli-own-run', 'approvals', 'go-ahead.pending.json'))
        ? true
        : undefined,
    );
    const own = await cli('approve', 'cli-own-run', 'go-ahead', '--state-dir', stateDir);
    assert.equal(own.code, 2);
    assert.match(own.stderr, /four eyes/);

    const theirs = ask('cli-other-run', 'someone@elsewhere');
    await until('the pending approval', () =>
      existsSync(join(stateDir, 'runs', 'cli-other-run', 'approvals', 'go-ahead.pending.json'))
        ? true
        : undefined,
    );
    const no = await cli(
      'approve',
      'cli-other-run',
      'go-ahead',
      '--reject',
      '--reason',
      'not during the sale',
      '--state-dir',
      stateDir,
    );
    assert.equal(no.code, 0, no.stderr);
    const answer = await theirs;
    assert.equal(answer.approved, false);
    assert.match(answer.by, new RegExp(`${operatorName()} via drillbook approve \\(not during the sale\\)`));
    const again = await cli('approve', 'cli-other-run', 'go-ahead', '--state-dir', stateDir);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already answered/);
    assert.equal((await cli('approve', 'cli-other-run', 'nope', '--state-dir', stateDir)).code, 2);
    // The own run's approval is still open: answer it from elsewhere to end the wait.
    writeFileSync(
      join(stateDir, 'runs', 'cli-own-run', 'approvals', 'go-ahead.answer.json'),
      JSON.stringify({ approved: false, by: 'test', via: 'test', decidedAt: new Date().toISOString() }),
    );
    await mine;
  });
});

describe('the triggers file', () => {
  it('names unknown keys and bad regular expressions as file:line:col', async () => {
    const bad = file(
      'bad-triggers.yaml',
      `apiVersion: drillbook/v1
kind: Triggers
receiver: { token: env:T }
triggers:
  - name: x
    match: { alertname: A }
    runbook: r.yaml
    environment: prod
    aproval: auto
`,
    );
    assert.throws(
      () => loadTriggers(bad),
      (err: UserError) => /bad-triggers\.yaml:9:5: .*aproval/.test(err.format()),
    );
    const res = await cli('validate', bad);
    assert.equal(res.code, 2);
    assert.match(res.stdout + res.stderr, /bad-triggers\.yaml:9:5/);
    const regex = file(
      'regex-triggers.yaml',
      `apiVersion: drillbook/v1
kind: Triggers
receiver: { token: env:T }
triggers:
  - name: x
    match: { alertname: "~(" }
    runbook: r.yaml
    environment: prod
`,
    );
    assert.throws(
      () => loadTriggers(regex),
      (err: UserError) =>
        /regex-triggers\.yaml:6:25: label "alertname": invalid regular expression/.test(err.format()),
    );
    const validated = await cli('validate', regex);
    assert.equal(validated.code, 2);
    assert.match(
      validated.stdout + validated.stderr,
      /regex-triggers\.yaml:6:25: label "alertname": invalid regular expression/,
    );
    assert.match(validated.stdout + validated.stderr, /regex-triggers\.yaml:7:14: file not found/);
    // A receiver token too short to redact (an empty variable) is refused too.
    const empty = file(
      'empty-token.yaml',
      readFileSync(join(dir, 'triggers.yaml'), 'utf8').replace(
        /token: file:[^,]+,/,
        'token: env:DRILLBOOK_SERVE_TEST_TOKEN,',
      ),
    );
    process.env.DRILLBOOK_SERVE_TEST_TOKEN = '';
    const short = await cli('serve', '--triggers', empty, '--listen', '127.0.0.1:0', '--state-dir', stateDir);
    delete process.env.DRILLBOOK_SERVE_TEST_TOKEN;
    assert.equal(short.code, 2);
    assert.match(short.stderr, /shorter than 4 characters/);
    // serve refuses to start on it: exit 2, nothing listens.
    const served = await cli('serve', '--triggers', bad, '--listen', '127.0.0.1:0', '--state-dir', stateDir);
    assert.equal(served.code, 2);
    assert.match(served.stderr, /bad-triggers\.yaml:9:5/);
  });
});

describe('stopping serve', () => {
  it('with --on-stop finish refuses new requests and lets the waiting run end once approved', async () => {
    const res = await post(payload(alert({ env: 'prod' }, { fingerprint: 'finish' })));
    assert.equal(res.body.alerts?.[0]?.outcome, 'started');
    const runId = res.body.alerts![0]!.runId!;
    const pending = join(stateDir, 'runs', runId, 'approvals', 'go-ahead.pending.json');
    await until('the pending approval', () => (existsSync(pending) ? true : undefined));
    let ended = false;
    const stopping = stopServe(serve, 'finish').then(() => (ended = true));
    stopped = true;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(ended, false);
    await assert.rejects(fetch(`${serve.url}/healthz`));
    assert.equal((await cli('approve', runId, 'go-ahead', '--state-dir', stateDir)).code, 0);
    await stopping;
    const finished = readJournal(journalPath(stateDir, runId)).events.find((e) => e.type === 'run-finished');
    assert.equal((finished as { status: string } | undefined)?.status, 'succeeded');
  });
});
