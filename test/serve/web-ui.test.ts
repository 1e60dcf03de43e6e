// drillbook serve's web UI in Debian's Chromium (playwright-core), without a PostgreSQL lab: a run an
// Alertmanager POST starts appears in the runs list, its page ticks its steps live (server-sent
// events) and the Approve button clicked in the page resumes it; what alerts and steps carry is shown
// as text, never as markup; approvals without a session, without the CSRF token or from someone off
// the allow-list are refused; a run another process runs is followed through its journal; stopping
// serve ends the open event streams. Screenshots go to test-artifacts/web-ui/ (printed). Spawns
// bin/drillbook.js: `npm run build` first.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { readJournal } from '../../src/engine/journal.js';
import { UserError } from '../../src/errors.js';
import { startSlackServer } from '../../src/lab/slack-server.js';
import { startServe, stopServe } from '../../src/serve/command.js';
import { SIGN_IN_LIMIT } from '../../src/serve/ui/routes.js';
import { loadTriggers } from '../../src/serve/triggers.js';
import { journalPath } from '../../src/system/run-paths.js';
import { alert, payload, until } from '../helpers/alertmanager.js';
import { fixtureReport } from '../report/fixtures.js';

const TOKEN = 'alertmanager-token-web-0123456789';
const ALICE = 'web-token-alice-0123456789abcdef';
const MALLORY = 'web-token-mallory-0123456789abcd';
const APPROVER = 'U0APPROVER';
const ARTIFACTS = resolve('test-artifacts', 'web-ui');
const XSS_LABEL = 'pg1<script>window.__xss=1</script>';
const XSS_OUTPUT = '<img src=x onerror=window.__xss=2>';
const SECRET = 'web-ui-secret-value-0123456789';

const dir = mkdtempSync(join(tmpdir(), 'drillbook-web-ui-'));
const stateDir = join(dir, 'state');
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text, { mode: 0o600 });
  return join(dir, name);
};
const lines: string[] = [];
const io = { out: (t: string) => lines.push(t), err: (t: string) => lines.push(t) };
let slack: Server;
let serve: Awaited<ReturnType<typeof startServe>>;
let browser: Browser | undefined;

before(async () => {
  process.env.DRILLBOOK_SECRET_WEBPW = SECRET;
  mkdirSync(ARTIFACTS, { recursive: true });
  console.log(`web UI screenshots: ${ARTIFACTS}`);
  file('slack-token', 'xoxb-web-0123456789');
  file('signing', 'slack-signing-secret-web-0123456789');
  file('token', TOKEN);
  file('alice', ALICE);
  file('mallory', MALLORY);
  slack = await startSlackServer({
    host: '127.0.0.1',
    port: 0,
    tokenFile: join(dir, 'slack-token'),
    signingSecretFile: join(dir, 'signing'),
    messagesFile: join(dir, 'messages.jsonl'),
  });
  const slackUrl = `http://127.0.0.1:${(slack.address() as AddressInfo).port}`;
  file(
    'inventory.yaml',
    `apiVersion: drillbook/v1
kind: Inventory
environments:
  prod:
    label: production
    primary: pg1
    replicas: []
    postgres: { database: app, user: app, nodes: { pg1: { host: 127.0.1.21, port: 16670 } } }
    slack:
      token: file:${join(dir, 'slack-token')}
      channel: "#ops"
      apiUrl: ${slackUrl}/api/
      signingSecret: file:${join(dir, 'signing')}
      approvers: [${APPROVER}]
`,
  );
  file(
    'runbook.yaml',
    `apiVersion: drillbook/v1
kind: Runbook
metadata: { name: web-failover }
inputs:
  instance: { type: string }
steps:
  - id: go-ahead
    kind: approve
    with: { message: "Fail over \${{ inputs.instance }}?" }
  - id: noisy
    kind: shell
    continueOnError: true
    retry: { attempts: 2, delay: 100ms }
    with: { command: "echo '${XSS_OUTPUT} \${{ secrets.WEBPW }}' >&2; exit 3" }
  - id: settle
    kind: wait
    budget: 1s
    with: { duration: 2500ms }
`,
  );
  file(
    'by-hand.yaml',
    `apiVersion: drillbook/v1
kind: Runbook
metadata: { name: by-hand }
steps:
  - id: first
    kind: wait
    with: { duration: 1500ms }
  - id: second
    kind: wait
    with: { duration: 1500ms }
`,
  );
  file(
    'triggers.yaml',
    `apiVersion: drillbook/v1
kind: Triggers
receiver: { token: file:${join(dir, 'token')} }
inventory: inventory.yaml
triggers:
  - name: primary-down
    match: { alertname: PostgresPrimaryDown }
    runbook: runbook.yaml
    environment: prod
    inputs: { instance: "\${{ alert.labels.instance }}" }
ui:
  drills: ${resolve('drills')}
  users:
    - { id: ${APPROVER}, name: alice, token: file:${join(dir, 'alice')} }
    - { id: U0MALLORY, name: mallory, token: file:${join(dir, 'mallory')} }
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
});

let stopped = false;
after(async () => {
  await browser?.close();
  if (!stopped) await stopServe(serve, 'interrupt');
  await new Promise((r) => slack.close(r));
  rmSync(dir, { recursive: true, force: true });
  delete process.env.DRILLBOOK_SECRET_WEBPW;
});

/** An Alertmanager POST with one firing alert; returns the run it started. */
async function fire(fingerprint: string): Promise<string> {
  const res = await fetch(`${serve.url}/hooks/alertmanager`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: payload(
      alert(
        { instance: XSS_LABEL, team: '<b>ops</b>' },
        { fingerprint, annotations: { summary: 'primary "down" & <gone>' } },
      ),
    ),
  });
  assert.equal(res.status, 202);
  const body = (await res.json()) as { alerts: { outcome: string; runId?: string }[] };
  assert.equal(body.alerts[0]!.outcome, 'started', lines.join('\n'));
  return body.alerts[0]!.runId!;
}

/** Signs in over HTTP: the session cookie. */
async function signIn(token: string): Promise<string> {
  const res = await fetch(`${serve.url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
    redirect: 'manual',
  });
  assert.equal(res.status, 303);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

const listed = () => (existsSync(join(stateDir, 'runs')) ? readdirSync(join(stateDir, 'runs')) : []);
const events = (runId: string) => readJournal(journalPath(stateDir, runId)).events;

/** Reads a server-sent events response until `done` says so (or the stream ends); the text read. */
async function readStream(res: Response, done: (text: string) => boolean, ms = 10_000): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const timer = setTimeout(() => void reader.cancel(), ms);
  try {
    for (;;) {
      const { value, done: ended } = await reader.read();
      if (ended) return text;
      text += decoder.decode(value, { stream: true });
      if (done(text)) return text;
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => {});
  }
}

describe('drillbook serve: the web UI', () => {
  it('refuses approvals without a session, without the CSRF token, or from a user off the allow-list, and escapes what alerts carry', async () => {
    const runId = await fire('web-1');
    const alice = await signIn(ALICE);
    const mallory = await signIn(MALLORY);
    const get = (path: string, cookie?: string) =>
      fetch(`${serve.url}${path}`, {
        headers: { accept: 'text/html', ...(cookie ? { cookie } : {}) },
        redirect: 'manual',
      });
    const pending = await until('the pending approval', async () => {
      const list = (await (await get(`/runs/${runId}/approvals`, alice)).json()) as { id: string }[];
      return list[0];
    });
    const csrfOf = async (cookie: string) =>
      /<meta name="csrf" content="([^"]+)">/.exec(await (await get(`/runs/${runId}`, cookie)).text())![1]!;
    const answer = (headers: Record<string, string>, approved = true, reason?: string) =>
      fetch(`${serve.url}/runs/${runId}/approvals`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ stepId: 'go-ahead', id: pending.id, approved, reason }),
      });

    // Pages and events need a session; a wrong token does not give one, a forged cookie is no session.
    assert.equal((await get('/')).status, 303);
    assert.equal((await fetch(`${serve.url}/runs/${runId}/events`)).status, 401);
    const wrong = await fetch(`${serve.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'token=not-a-user-token-0123456789',
      redirect: 'manual',
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('set-cookie'), null);
    assert.equal((await answer({})).status, 401);
    assert.equal(
      (await answer({ cookie: `drillbook_session=${APPROVER}.9999999999999.forged` })).status,
      401,
    );
    // A session without the page's CSRF token (what a forged cross-site request would be).
    assert.equal((await answer({ cookie: alice })).status, 403);
    assert.equal((await answer({ cookie: alice, 'x-drillbook-csrf': await csrfOf(mallory) })).status, 403);
    // A signed-in user who is not on the environment's approvers allow-list.
    const refused = await answer({ cookie: mallory, 'x-drillbook-csrf': await csrfOf(mallory) });
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /not on the approvers allow-list/);
    assert.ok(serve.running.has(runId));
    assert.ok(events(runId).every((e) => e.type !== 'approval-granted' && e.type !== 'approval-denied'));
    assert.ok(events(runId).some((e) => e.type === 'log' && /U0MALLORY \(mallory\) refused/.test(e.message)));

    // What the alert carries is text in every page.
    for (const html of [
      await (await get(`/runs/${runId}`, alice)).text(),
      await (await get('/', alice)).text(),
    ]) {
      assert.ok(!html.includes('<script>window.__xss'), html);
      assert.ok(!html.includes('<b>ops</b>'));
      assert.ok(!html.includes(ALICE) && !html.includes(TOKEN));
    }
    assert.match(
      await (await get(`/runs/${runId}`, alice)).text(),
      /pg1&lt;script&gt;window\.__xss=1&lt;\/script&gt;/,
    );

    // The allowed user rejects, with the CSRF token of their session: once, with who, how and why.
    const rejected = await answer(
      { cookie: alice, 'x-drillbook-csrf': await csrfOf(alice) },
      false,
      'not now',
    );
    assert.equal(rejected.status, 200, await rejected.clone().text());
    const again = await answer({ cookie: alice, 'x-drillbook-csrf': await csrfOf(alice) });
    assert.match(await again.text(), /already answered/);
    assert.equal(await serve.running.get(runId)!.done, 1);
    const denied = events(runId).find((e) => e.type === 'approval-denied');
    assert.match(JSON.stringify(denied), /U0APPROVER \(alice\) via web \(not now\)/);
  });

  it('shows a run an alert starts, ticks its steps live, resumes it on an Approve click, and links its report, history and schedule', async () => {
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(serve.url);
    assert.match(page.url(), /\/login$/);
    await page.fill('input[name=token]', ALICE);
    await page.click('button[type=submit]');
    await page.waitForURL(`${serve.url}/`);

    const runId = await fire('web-2');
    // The list reloads itself: the new run appears without anyone touching the page.
    const row = page.locator(`tr[data-run="${runId}"]`);
    await row.waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(ARTIFACTS, '1-runs-running.png'), fullPage: true });
    await row.locator('a').first().click();
    await page.waitForURL(`${serve.url}/runs/${runId}`);

    const approval = page.locator('.approval[data-step="go-ahead"]');
    await approval.waitFor({ timeout: 10_000 });
    assert.equal(
      await approval.locator('p').textContent(),
      `Approval needed at go-ahead: Fail over ${XSS_LABEL}?`,
    );
    await page.screenshot({ path: join(ARTIFACTS, '2-run-waiting-for-approval.png'), fullPage: true });
    await approval.locator('button.approve').click();

    // The approved run goes on: the shell step's failures are its log lines, as text; the wait step
    // ticks past its budget.
    const settle = page.locator('li[data-step="settle"]');
    await page.locator('li[data-step="settle"].running').waitFor({ timeout: 10_000 });
    const elapsed = async () => Number(await settle.locator('.timer').getAttribute('data-elapsed'));
    const first = await until('the timer to start', async () => (await elapsed()) || undefined);
    await page.waitForTimeout(600);
    assert.ok((await elapsed()) > first + 300, `the timer ticks: ${first} then ${await elapsed()}`);
    await page.locator('li[data-step="settle"].over').waitFor({ timeout: 5_000 });
    await page.screenshot({ path: join(ARTIFACTS, '3-run-steps-ticking.png'), fullPage: true });
    // Step output is text, and the secret it printed is redacted.
    assert.match(
      (await page.locator('li[data-step="noisy"] .logs').textContent())!,
      /<img src=x onerror=window.__xss=2> \*\*\*/,
    );
    assert.ok(!(await page.content()).includes(SECRET));
    assert.match(
      (await page.locator('li[data-step="go-ahead"] .logs').textContent())!,
      /approved by U0APPROVER \(alice\) via web/,
    );
    await page.locator('#run-status', { hasText: 'succeeded' }).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(ARTIFACTS, '4-run-succeeded.png'), fullPage: true });
    assert.equal(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss), undefined);
    assert.deepEqual(dialogs, []);
    assert.match(
      JSON.stringify(events(runId).find((e) => e.type === 'approval-granted')),
      /U0APPROVER \(alice\) via web/,
    );

    // Its report, from the runs list: the status icons are inline SVG, no emoji glyph.
    await until('the report', () => (serve.running.has(runId) ? undefined : true));
    await page.goto(`${serve.url}/?status=succeeded`);
    await page.locator(`tr[data-run="${runId}"] a`, { hasText: 'report' }).click();
    await page.locator('h1 svg.icon').waitFor();
    const report = await page.content();
    assert.ok(!/[\u{2705}\u{274C}\u{23F9}]/u.test(report));
    await page.screenshot({ path: join(ARTIFACTS, '5-report.png'), fullPage: true });

    // Two recorded drills beside it: their RTO and RPO trends.
    for (const [i, id] of ['drill-a', 'drill-b'].entries()) {
      const drill = fixtureReport('drill');
      drill.run.id = id;
      drill.run.createdAt = `2026-11-0${i + 1}T10:00:00Z`;
      mkdirSync(join(dir, 'reports', `2026-11-0${i + 1}-${id}`), { recursive: true });
      writeFileSync(join(dir, 'reports', `2026-11-0${i + 1}-${id}`, 'report.json'), JSON.stringify(drill));
    }
    await page.goto(`${serve.url}/history`);
    assert.equal(await page.locator('svg.trend[aria-label="RTO over time"]').count(), 2);
    assert.equal(await page.locator('svg.trend[aria-label="RPO over time"]').count(), 1);
    assert.equal(await page.locator('svg.trend[aria-label="RPO over time"] circle').count(), 2);
    await page.screenshot({ path: join(ARTIFACTS, '6-history.png'), fullPage: true });
    await page.goto(`${serve.url}/schedule`);
    await page.locator('h2', { hasText: 'primary-kill' }).waitFor();
    assert.ok((await page.locator('table tbody tr').count()) >= 5);
    await page.screenshot({ path: join(ARTIFACTS, '7-schedule.png'), fullPage: true });
    assert.ok(existsSync(join(ARTIFACTS, '4-run-succeeded.png')));
    assert.ok(readFileSync(join(ARTIFACTS, '4-run-succeeded.png')).length > 1000);
  });

  it('follows a run another process runs (its journal) live, and lists it as manual', async () => {
    const alice = await signIn(ALICE);
    // Another process, in its own working directory (its reports go there).
    const child = spawn(
      process.execPath,
      [
        resolve('bin/drillbook.js'),
        'run',
        join(dir, 'by-hand.yaml'),
        '--env',
        'prod',
        '--inventory',
        join(dir, 'inventory.yaml'),
        '--state-dir',
        stateDir,
        '--no-slack',
      ],
      { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    const runId = await until('the by-hand run', () =>
      listed().find((id) => id.includes('by-hand') && existsSync(journalPath(stateDir, id))),
    );
    const res = await fetch(`${serve.url}/runs/${runId}/events`, { headers: { cookie: alice } });
    assert.equal(res.status, 200);
    // Running: it holds its environment's lock.
    const running = await (
      await fetch(`${serve.url}/?status=running`, { headers: { cookie: alice } })
    ).text();
    assert.match(running, new RegExp(`data-run="${runId}"`));
    assert.match(res.headers.get('content-type')!, /^text\/event-stream/);
    const text = await readStream(res, (t) => t.includes('"type":"run-finished"'));
    // The stream opened as the run began; the second step's end came through it, not before it.
    assert.match(text, /"type":"step-finished","stepId":"second"/);
    assert.equal(await exited, 0, stderr);
    const list = await (await fetch(`${serve.url}/?trigger=manual`, { headers: { cookie: alice } })).text();
    assert.match(list, new RegExp(`data-run="${runId}"`));
    assert.doesNotMatch(list, /data-run="[^"]*web-failover/);
  });

  it('refuses unknown keys in the ui section with file:line:col', () => {
    const bad = file(
      'bad-triggers.yaml',
      readFileSync(join(dir, 'triggers.yaml'), 'utf8').replace('ui:\n', 'ui:\n  theme: dark\n'),
    );
    assert.throws(
      () => loadTriggers(bad),
      (err: unknown) => err instanceof UserError && /bad-triggers\.yaml:\d+:\d+: .*theme/.test(err.format()),
    );
  });

  it('throttles sign-in per client address: past the limit even the right token waits', async () => {
    // From an address of its own (loopback is 127/8), so the other tests' sign-ins count elsewhere.
    const from = '127.0.0.77';
    const post = (token: string) =>
      new Promise<{ status: number; retryAfter?: string }>((done, fail) => {
        const url = new URL(`${serve.url}/login`);
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            path: '/login',
            method: 'POST',
            localAddress: from,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          },
          (res) => {
            res.resume();
            res.on('end', () => done({ status: res.statusCode!, retryAfter: res.headers['retry-after'] }));
          },
        );
        req.on('error', fail);
        req.end(new URLSearchParams({ token }).toString());
      });
    for (let i = 0; i < SIGN_IN_LIMIT.max; i++) assert.equal((await post(`guess-${i}`)).status, 401);
    const throttled = await post(ALICE);
    assert.equal(throttled.status, 429);
    assert.ok(Number(throttled.retryAfter) > 0, `Retry-After: ${throttled.retryAfter}`);
    assert.ok(
      lines.some((l) => /"outcome":"throttled","from":"127\.0\.0\.77"/.test(l)),
      lines.join('\n'),
    );
    // Another address is not held back.
    assert.match(await signIn(ALICE), /^drillbook_session=/);
  });

  it('ends the live event streams when serve stops, so stopping never waits for a browser', async () => {
    const runId = await fire('web-3');
    const alice = await signIn(ALICE);
    await until('the approval request', () =>
      existsSync(journalPath(stateDir, runId)) && events(runId).some((e) => e.type === 'approval-requested')
        ? true
        : undefined,
    );
    const res = await fetch(`${serve.url}/runs/${runId}/events`, { headers: { cookie: alice } });
    const reading = readStream(res, () => false, 15_000);
    const start = Date.now();
    stopped = true;
    await stopServe(serve, 'interrupt');
    assert.ok(Date.now() - start < 5000, `serve stopped in ${Date.now() - start} ms`);
    assert.match(await reading, /event: end/);
    assert.ok(events(runId).some((e) => e.type === 'run-stopped'));
  });
});
