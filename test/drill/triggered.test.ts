// Drills whose runbook is not started by the drill: `trigger: alert` (the lab's monitoring notices
// the dead primary, Alertmanager posts to the lab's serve, serve starts pg-failover) and
// `trigger: manual` (a person clicks Approve in Slack; the lab's Slack endpoint posts the signed click
// to the lab's serve). Slot 26, a
// --sync --monitoring lab; needs `npm run build` (the lab's serve runs bin/drillbook.js).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readJournal } from '../../src/engine/journal.js';
import { pendingApproval } from '../../src/engine/approval-box.js';
import { lockHolder } from '../../src/engine/lock.js';
import { runDrill } from '../../src/drill/run-drill.js';
import { MANUAL_START_STEP } from '../../src/drill/phases/trigger.js';
import type { TimelineMark } from '../../src/schema/drill-outcome.js';
import { journalPath } from '../../src/system/run-paths.js';
import { waitFor } from '../../src/system/processes.js';
import { LAB_SLACK_APPROVER } from '../../src/lab/config.js';
import { cli } from '../helpers/cli.js';
import { assertJournalMatchesSchema } from '../helpers/events-schema.js';
import { privateLab } from '../helpers/private-lab.js';

const stateDir = mkdtempSync(join(tmpdir(), 'drillbook-triggered-'));
after(() => rmSync(stateDir, { recursive: true, force: true }));
const quiet = { out: () => undefined, err: () => undefined };

/** Each mark's first time; asserts that `order` is present and in that order. */
function assertChain(timeline: readonly TimelineMark[] | undefined, order: TimelineMark['mark'][]) {
  const at = new Map<string, number>();
  for (const m of timeline ?? []) if (!at.has(m.mark)) at.set(m.mark, m.at);
  for (const mark of order) assert.ok(at.has(mark), `no ${mark} mark in ${JSON.stringify(timeline)}`);
  for (let i = 1; i < order.length; i++)
    assert.ok(
      at.get(order[i - 1]!)! <= at.get(order[i]!)!,
      `${order[i - 1]} (${at.get(order[i - 1]!)}) after ${order[i]} (${at.get(order[i]!)})`,
    );
}

describe('a drill with trigger: alert on an environment without a serve', () => {
  it('is refused with a located error before anything runs', async () => {
    const drill = join(stateDir, 'no-serve.yaml');
    writeFileSync(
      drill,
      `apiVersion: drillbook/v1\nkind: Drill\nmetadata: { name: no-serve }\nrunbook: ${process.cwd()}/runbooks/pg-failover.yaml\nenvironment: staging\ninventory: ${process.cwd()}/examples/inventory.yaml\ntrigger: alert\nfault: { kind: kill-postgres, target: primary }\nobjectives: { rto: 10s, rpo: 0 }\n`,
    );
    const checked = await cli('validate', drill);
    assert.equal(checked.code, 2);
    assert.match(
      checked.stderr,
      /no-serve\.yaml:7:10: trigger: alert needs the serve of environment "staging"/,
    );
    await assert.rejects(
      runDrill({ drillFile: drill, stateDir: join(stateDir, 'no-serve') }, quiet),
      /trigger: alert needs/,
    );
    assert.equal(existsSync(join(stateDir, 'no-serve', 'runs')), false);
  });
});

describe('drills started by an alert or a person', () => {
  const lab = privateLab(26, { sync: true, monitoring: true });

  it('trigger: alert: the alert starts pg-failover through serve; the report shows the whole chain', async (t) => {
    const l = lab(t);
    if (!l) return;
    const outcome = await runDrill(
      { drillFile: 'drills/primary-kill-alerted.yaml', inventoryFile: l.inventoryPath, stateDir },
      quiet,
    );
    assertJournalMatchesSchema(journalPath(stateDir, outcome.runId));
    const events = readJournal(journalPath(stateDir, outcome.runId)).events;
    const finished = events.find((e) => e.type === 'drill-finished');
    assert.equal(
      outcome.verdict,
      'pass',
      finished?.type === 'drill-finished' ? finished.reasons.join('\n') : '',
    );
    assert.equal(outcome.figures?.rpoRows, 0);
    assertChain(outcome.figures?.timeline, [
      'fault',
      'alert-firing',
      'webhook-received',
      'runbook-started',
      'promoted',
      'routed',
      'first-ack',
    ]);
    // The drill did not run the runbook: serve did, and its journal names the alert.
    assert.equal(events.filter((e) => e.type === 'step-started').length, 0);
    const triggered = events.find((e) => e.type === 'drill-triggered');
    assert.ok(triggered?.type === 'drill-triggered' && triggered.alertRun);
    const serveState = join(l.dir, 'serve');
    const alertRun = readJournal(journalPath(serveState, triggered.alertRun));
    assert.equal(alertRun.header.trigger?.kind, 'alert');
    assert.equal(alertRun.header.trigger?.alertname, 'PostgresPrimaryDown');
    // One run for the alert; its resolution (after the failover) starts nothing.
    const alerts = readFileSync(join(serveState, 'serve', 'alerts.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { outcome: string; status: string });
    assert.equal(alerts.filter((a) => a.outcome === 'started').length, 1, JSON.stringify(alerts));
    assert.ok(
      await waitFor(
        () => readFileSync(join(serveState, 'serve', 'alerts.jsonl'), 'utf8').includes('"resolved-ignored"'),
        10_000,
      ),
      'the alert never resolved after the failover',
    );
    // The drill held the environment in serve's state directory through its restore, and let go.
    assert.ok(!events.some((e) => e.type === 'log' && e.message.includes('without the lock')));
    assert.equal(lockHolder(serveState, 'lab'), undefined);
    // The reports carry the chain.
    assert.ok(outcome.reportDir);
    const md = readFileSync(join(outcome.reportDir, 'report.md'), 'utf8');
    assert.match(md, /alert firing[\s\S]*webhook received[\s\S]*runbook started/);
    assert.match(readFileSync(join(outcome.reportDir, 'report.html'), 'utf8'), /webhook received/);
    assert.match(readFileSync(join(outcome.reportDir, 'report.json'), 'utf8'), /"alert-firing"/);
  });

  it('trigger: manual: the runbook waits for a person, who clicks Approve in Slack', async (t) => {
    const l = lab(t);
    if (!l) return;
    const drill = join(stateDir, 'primary-kill-manual.yaml');
    writeFileSync(
      drill,
      readFileSync('drills/primary-kill.yaml', 'utf8')
        .replaceAll('../runbooks/', `${process.cwd()}/runbooks/`)
        .replace('fault:\n', 'trigger: manual\ntriggerTimeout: 30s\nfault:\n'),
    );
    const slackToken = readFileSync(join(l.dir, 'secrets', 'slack-token'), 'utf8').trim();
    const control = async (path: string, body?: object) =>
      (await (
        await fetch(`${l.environment.slack!.apiUrl!.replace(/\/api\/$/, '')}${path}`, {
          method: body ? 'POST' : 'GET',
          headers: { authorization: `Bearer ${slackToken}`, 'content-type': 'application/json' },
          body: body && JSON.stringify(body),
        })
      ).json()) as Record<string, unknown>;
    const running = runDrill({ drillFile: drill, inventoryFile: l.inventoryPath, stateDir }, quiet);
    // The question, with its buttons, in the drill's Slack thread.
    let question: { ts: string; text?: string } | undefined;
    const asked = async () => {
      const { messages } = (await control('/_control/messages')) as {
        messages: { ts: string; text?: string; blocks?: unknown }[];
      };
      question = messages.find(
        (m) => m.blocks && m.text?.includes(`, step ${MANUAL_START_STEP}: The fault struck`),
      );
      return question !== undefined;
    };
    assert.ok(await waitFor(asked, 20_000, 200), 'the drill asked nobody to start its runbook');
    const runId = /Approval needed for run (\S+),/.exec(question!.text!)![1]!;
    // Nothing starts before the person answers; the approval waits where the lab's serve finds it.
    assert.ok(pendingApproval(l.environment.serve!.stateDir, runId, MANUAL_START_STEP));
    await new Promise((r) => setTimeout(r, 500));
    const before = readJournal(journalPath(stateDir, runId)).events;
    assert.equal(before.filter((e) => e.type === 'step-started').length, 0, 'the runbook started unasked');
    const click = (await control('/_control/click', {
      ts: question!.ts,
      actionId: 'drillbook-approve',
      user: { id: LAB_SLACK_APPROVER, username: 'ops' },
    })) as { status: number; answer: string };
    assert.equal(click.status, 200, click.answer);
    const outcome = await running;
    assert.equal(outcome.runId, runId);
    assert.equal(outcome.verdict, 'pass', outcome.reasons?.join('\n'));
    assertChain(outcome.figures?.timeline, ['fault', 'approved', 'runbook-started', 'promoted', 'first-ack']);
    const triggered = readJournal(journalPath(stateDir, runId)).events.find(
      (e) => e.type === 'drill-triggered',
    );
    assert.ok(triggered?.type === 'drill-triggered');
    assert.match(triggered.by ?? '', new RegExp(`${LAB_SLACK_APPROVER} \\(ops\\) via slack`));
  });
});
