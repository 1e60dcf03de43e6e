// End to end on a private lab (slot 17): `drillbook serve` as its own process, an Alertmanager-style
// POST starts a runbook that needs approval, the test clicks Approve through the lab's Slack
// endpoint (its interactive callback posts the signed click to serve), and the run completes; the
// duplicate POST starts nothing. Then SIGTERM stops serve while a second run waits: that run stays
// resumable and `drillbook resume` finishes it.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { readJournal } from '../../src/engine/journal.js';
import { LAB_SLACK_APPROVER } from '../../src/lab/config.js';
import { pgAlertClaims } from '../../src/serve/alert-claims.js';
import { journalPath } from '../../src/system/run-paths.js';
import { alert, payload, until as poll } from '../helpers/alertmanager.js';
import { withPrivateLab } from '../helpers/private-lab.js';

/** The lab's runs take longer than the in-process serve's: 30 s, polled every 100 ms. */
const until = <T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 30_000) =>
  poll(what, fn, ms, 100);

const SLOT = 17;
const BIN = resolve('bin/drillbook.js');
const TOKEN = 'lab-alertmanager-token-0123456789';

const exited = (child: ChildProcess) =>
  new Promise<number | null>((r) =>
    child.exitCode !== null ? r(child.exitCode) : child.once('exit', (code) => r(code)),
  );

describe('drillbook serve on the lab', () => {
  it('an alert starts a runbook that waits for a Slack click, the run completes, a duplicate starts nothing, and SIGTERM leaves a waiting run resumable', async () => {
    await withPrivateLab(
      SLOT,
      async (lab) => {
        const dir = mkdtempSync(join(tmpdir(), 'drillbook-serve-lab-'));
        const stateDir = join(dir, 'state');
        let serve: ChildProcess | undefined;
        try {
          writeFileSync(join(dir, 'token'), TOKEN, { mode: 0o600 });
          writeFileSync(
            join(dir, 'runbook.yaml'),
            `apiVersion: drillbook/v1
kind: Runbook
metadata: { name: alert-lab }
inputs:
  instance: { type: string }
steps:
  - id: go-ahead
    kind: approve
    with: { message: "Check \${{ inputs.instance }}?" }
  - id: primary-answers
    kind: sql
    with: { target: primary, query: "select 1 as one" }
`,
          );
          writeFileSync(
            join(dir, 'triggers.yaml'),
            `apiVersion: drillbook/v1
kind: Triggers
receiver: { token: file:${join(dir, 'token')} }
triggers:
  - name: primary-down
    match: { alertname: PostgresPrimaryDown, env: lab }
    runbook: runbook.yaml
    environment: \${{ alert.labels.env }}
    inputs: { instance: "\${{ alert.labels.instance }}" }
    approval: required
`,
          );
          serve = spawn(
            process.execPath,
            [
              BIN,
              'serve',
              '--listen',
              '127.0.0.1:0',
              '--triggers',
              join(dir, 'triggers.yaml'),
              '--inventory',
              lab.inventoryPath,
              '--state-dir',
              stateDir,
            ],
            { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
          );
          const output: string[] = [];
          serve.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
          const url = await new Promise<string>((resolveUrl, reject) => {
            createInterface({ input: serve!.stdout! }).on('line', (line) => {
              output.push(line);
              const m = /"event":"listening","url":"([^"]+)"/.exec(line);
              if (m) resolveUrl(m[1]!);
            });
            serve!.once('exit', (code) => reject(new Error(`serve exited ${code}: ${output.join('\n')}`)));
          });

          const slackToken = readFileSync(join(lab.dir, 'secrets', 'slack-token'), 'utf8').trim();
          const slackBase = lab.environment.slack!.apiUrl!.replace(/\/api\/$/, '');
          const control = async (path: string, body?: object) =>
            (await (
              await fetch(`${slackBase}${path}`, {
                method: body ? 'POST' : 'GET',
                headers: { authorization: `Bearer ${slackToken}`, 'content-type': 'application/json' },
                body: body && JSON.stringify(body),
              })
            ).json()) as Record<string, unknown>;
          await control('/_control/interactivity', { url: `${url}/hooks/slack/actions` });

          const post = async (fingerprint: string) => {
            const res = await fetch(`${url}/hooks/alertmanager`, {
              method: 'POST',
              headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
              body: payload(alert({ env: 'lab' }, { fingerprint, startsAt: '2026-11-29T12:00:00.000Z' })),
            });
            assert.equal(res.status, 202);
            return ((await res.json()) as { alerts: { outcome: string; runId?: string }[] }).alerts[0]!;
          };
          const approvalMessage = (runId: string) =>
            until(`the approval buttons of ${runId}`, async () => {
              const { messages } = (await control('/_control/messages')) as {
                messages: { ts: string; text?: string; blocks?: unknown }[];
              };
              return messages.find((m) => m.blocks && m.text?.includes(`Approval needed for run ${runId}`));
            });
          const events = (runId: string) =>
            existsSync(journalPath(stateDir, runId)) ? readJournal(journalPath(stateDir, runId)).events : [];

          const first = await post('lab-1');
          assert.equal(first.outcome, 'started', output.join('\n'));
          const runId = first.runId!;
          assert.equal((await post('lab-1')).outcome, 'deduplicated');

          const message = await approvalMessage(runId);
          const click = (await control('/_control/click', {
            ts: message.ts,
            actionId: 'drillbook-approve',
            user: { id: LAB_SLACK_APPROVER, username: 'ops' },
          })) as { status: number; answer: string };
          assert.equal(click.status, 200, click.answer);
          const finished = await until('the first run to finish', () =>
            events(runId).find((e) => e.type === 'run-finished'),
          );
          assert.equal((finished as { status: string }).status, 'succeeded');
          assert.match(
            JSON.stringify(events(runId).find((e) => e.type === 'approval-granted')),
            new RegExp(`${LAB_SLACK_APPROVER} \\(ops\\) via slack`),
          );
          assert.equal(readJournal(journalPath(stateDir, runId)).header.trigger?.fingerprint, 'lab-1');
          // The run's Slack thread names the alert.
          const { messages } = (await control('/_control/messages')) as { messages: { text?: string }[] };
          assert.ok(messages.some((m) => m.text?.includes('Started by alert PostgresPrimaryDown firing')));

          // A second alert's run waits for its approval; SIGTERM stops serve and leaves it resumable.
          const second = await post('lab-2');
          assert.equal(second.outcome, 'started');
          await approvalMessage(second.runId!);
          serve.kill('SIGTERM');
          assert.equal(await exited(serve), 0, output.join('\n'));
          assert.ok(events(second.runId!).some((e) => e.type === 'run-stopped'));
          const resumed = spawn(
            process.execPath,
            [BIN, 'resume', second.runId!, '--approve', 'go-ahead', '--state-dir', stateDir, '--no-slack'],
            {
              cwd: dir,
              stdio: 'ignore',
            },
          );
          assert.equal(await exited(resumed), 0);
          assert.equal(
            (events(second.runId!).findLast((e) => e.type === 'run-finished') as { status: string }).status,
            'succeeded',
          );

          // Two serve processes sharing a coordination database: the same alert is claimed once.
          const pg = lab.environment.postgres;
          const node = pg.nodes[lab.environment.primary]!;
          const coordination = {
            host: node.host,
            port: node.port,
            database: pg.database,
            user: pg.user,
            password: pg.password,
          };
          const claims = [pgAlertClaims(coordination, 'serve-a'), pgAlertClaims(coordination, 'serve-b')];
          try {
            const key = `lab-3@2026-11-29T12:00:00.000Z/firing`;
            const results = await Promise.all(claims.map((c) => c.claim(key, 'lab')));
            assert.equal(results.filter((r) => r.claimed).length, 1);
            assert.equal((await claims[0]!.claim(key, 'lab')).claimed, false);
          } finally {
            for (const c of claims) await c.close();
          }
        } finally {
          if (serve && serve.exitCode === null) {
            serve.kill('SIGKILL');
            await exited(serve);
          }
          rmSync(dir, { recursive: true, force: true });
        }
      },
      {},
    );
  });
});
