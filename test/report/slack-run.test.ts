// Runs end to end with their evidence, against the shared lab's Slack endpoint: one thread per run
// (header posted, then updated in place; notify and step results as replies; a Block Kit summary
// naming the report), a 429 waited out, and a Slack outage that does not fail the run.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { parse, stringify } from 'yaml';
import '../../src/actions/registry.js';
import { runCommand } from '../../src/compose/commands.js';
import type { RunEvent } from '../../src/engine/events.js';
import { readJournal } from '../../src/engine/journal.js';
import { journalPath, runDir, stateDirOf } from '../../src/system/run-paths.js';
import { labPaths } from '../../src/lab/paths.js';
import type { StoredSlackMessage } from '../../src/lab/slack-server.js';
import type { SlackVerbosity } from '../../src/report/slack-run.js';
import type { Inventory } from '../../src/schema/inventory.js';
import { requireLab, slackControl, type TestLab } from '../helpers/lab.js';

const RUNBOOK = `apiVersion: drillbook/v1
kind: Runbook
metadata: { name: slack-thread }
objectives: { rto: 1m }
steps:
  - id: tell
    kind: notify
    with: { text: "drill of the report thread" }
  - id: pause
    kind: wait
    budget: 5s
    with: { duration: 300ms }
  - id: break
    kind: shell
    with: { command: "echo no >&2; exit 3" }
rollback:
  - id: undo
    kind: wait
    with: { duration: 10ms }
`;

/** Every message of a thread as it was posted and updated (the lab appends each call to its log). */
function threadOf(lab: TestLab, ts: string): StoredSlackMessage[] {
  return readFileSync(labPaths(lab.dir).slackMessages, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as StoredSlackMessage)
    .filter((m) => m.ts === ts || m.threadTs === ts);
}

// The runs use the default state directory (the notify action keeps the thread file there too):
// one of this test's, never the machine's.
process.env.DRILLBOOK_STATE_DIR ??= mkdtempSync(join(tmpdir(), 'drillbook-slack-state-'));

async function run(
  t: TestContext,
  o: { inventory: string; runId: string; verbosity?: SlackVerbosity; slack?: boolean },
) {
  const dir = mkdtempSync(join(tmpdir(), 'drillbook-slack-run-'));
  // The default state directory: the notify action keeps the thread file there too.
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(runDir(stateDirOf(), o.runId), { recursive: true, force: true });
  });
  const runbookFile = join(dir, 'slack-thread.yaml');
  writeFileSync(runbookFile, RUNBOOK);
  const events: RunEvent[] = [];
  const stderr: string[] = [];
  const started = Date.now();
  const code = await runCommand(
    {
      runbookFile,
      envName: 'lab',
      inventoryFile: o.inventory,
      runId: o.runId,
      json: true,
      reportsDir: join(dir, 'reports'),
      slack: o.slack,
      slackVerbosity: o.verbosity,
    },
    {
      out: (text) =>
        events.push(
          ...text
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as RunEvent),
        ),
      err: (text) => stderr.push(text),
    },
  );
  return { code, events, stderr: stderr.join('\n'), tookMs: Date.now() - started, dir };
}

describe('the run’s Slack thread and reports', () => {
  test('header posted then updated in place, replies threaded (notify too), a summary naming the report, a 429 waited out', async (t) => {
    const lab = requireLab(t);
    if (!lab) return;
    const env = lab.environment;
    // The first call (the header) is refused with 429 Retry-After: 1; the client waits and retries.
    await slackControl(env, '_control/rate-limit', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count: 1, retryAfter: 1 }),
    });
    const runId = `slack-thread-${process.pid}-${Date.now()}`;
    const r = await run(t, { inventory: lab.inventoryPath, runId });
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /report: .*reports\/\d{4}-\d\d-\d\d-slack-thread-slack-thread-\d+-\d+\/report\.html/,
    );

    const threads = JSON.parse(readFileSync(join(runDir(stateDirOf(), runId), 'slack-thread.json'), 'utf8'));
    const head = threads[`${env.slack!.channel} header`];
    assert.equal(threads[env.slack!.channel].ts, head.ts, 'the header opened the thread notify uses');
    const messages = threadOf(lab, head.ts);
    const header = messages.filter((m) => m.ts === head.ts);
    assert.equal(header[0]?.method, 'chat.postMessage');
    assert.ok(header.length >= 2, 'updated in place');
    assert.ok(header.slice(1).every((m) => m.method === 'chat.update'));
    assert.match(
      header.at(-1)!.text!,
      /^:x: \*slack-thread\* on \*lab\* \(staging\) — failed — [\d.]+m?s of RTO 1m/,
    );

    const replies = messages.filter((m) => m.threadTs === head.ts && m.method === 'chat.postMessage');
    const texts = replies.map((m) => m.text ?? '');
    assert.ok(
      texts.some((x) => /drill of the report thread/.test(x)),
      `notify replied in the thread: ${texts.join(' | ')}`,
    );
    assert.ok(
      texts.some((x) => /^✔ pause /.test(x)),
      'a step result',
    );
    assert.ok(
      texts.some((x) => /^✖ break failed/.test(x)),
      'the failure',
    );
    assert.ok(
      texts.some((x) => /^↺ rollback after break failed/.test(x)),
      'the rollback',
    );
    const summary = replies.at(-1)!;
    const blocks = summary.blocks as {
      type: string;
      text?: { text: string };
      fields?: { text: string }[];
      elements?: { text: string }[];
    }[];
    assert.deepEqual(
      blocks.map((b) => b.type),
      ['header', 'section', 'section', 'context'],
    );
    assert.match(blocks[0]!.text!.text, /Run failed — slack-thread on lab/);
    assert.ok(blocks[1]!.fields!.some((f) => /\*Run duration\*\n.* of 1m met/.test(f.text)));
    assert.match(blocks[2]!.text!.text, /break: .*exit/);
    assert.match(blocks[3]!.elements![0]!.text, new RegExp(`run \`${runId}\` · report .*report\\.html`));
    // The report itself exists, and the journal has no Slack warning.
    const journal = readJournal(journalPath(stateDirOf(), runId));
    assert.deepEqual(
      journal.events.filter((e) => e.type === 'log' && e.level === 'warn'),
      [],
    );
  });

  test('verbosity failures: only the failure and the rollback as replies', async (t) => {
    const lab = requireLab(t);
    if (!lab) return;
    const runId = `slack-failures-${process.pid}-${Date.now()}`;
    const r = await run(t, { inventory: lab.inventoryPath, runId, verbosity: 'failures' });
    assert.equal(r.code, 1, r.stderr);
    const head = JSON.parse(readFileSync(join(runDir(stateDirOf(), runId), 'slack-thread.json'), 'utf8'))[
      `${lab.environment.slack!.channel} header`
    ];
    const texts = threadOf(lab, head.ts)
      .filter((m) => m.threadTs === head.ts)
      .map((m) => m.text ?? '');
    assert.equal(texts.filter((x) => /^✔/.test(x)).length, 0, texts.join(' | '));
    assert.ok(texts.some((x) => /^✖ break failed/.test(x)));
  });

  test('a Slack outage (nothing listens) never fails the run: a warning, and the report is still written', async (t) => {
    const lab = requireLab(t);
    if (!lab) return;
    // A port that was just free: nothing answers there.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = s.address() as { port: number };
        s.close(() => resolve(p));
      });
    });
    const inventory = parse(readFileSync(lab.inventoryPath, 'utf8')) as Inventory;
    inventory.environments.lab!.slack!.apiUrl = `http://127.0.0.1:${port}/api/`;
    const dir = mkdtempSync(join(tmpdir(), 'drillbook-slack-outage-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'inventory.yaml');
    writeFileSync(file, stringify(inventory));
    const runId = `slack-outage-${process.pid}-${Date.now()}`;
    const r = await run(t, { inventory: file, runId });
    // The run fails only because of its shell step (notify has no continueOnError): same as without Slack.
    assert.equal(r.code, 1, r.stderr);
    const finished = r.events.find((e) => e.type === 'run-finished');
    assert.equal(finished?.type === 'run-finished' && finished.failedStep, 'tell');
    const warnings = readJournal(journalPath(stateDirOf(), runId))
      .events.filter((e): e is Extract<RunEvent, { type: 'log' }> => e.type === 'log' && e.level === 'warn')
      .map((e) => e.message);
    assert.ok(
      warnings.some((w) => /^slack: opening the run’s thread failed \(the run goes on\)/.test(w)),
      warnings.join('\n'),
    );
    assert.ok(
      !warnings.some((w) => w.includes(readFileSync(lab.environment.slack!.token.slice(5), 'utf8').trim())),
    );
    assert.ok(r.tookMs < 20_000, `Slack did not hold the run up (${r.tookMs} ms)`);
    assert.ok(existsSync(join(r.dir, 'reports')), 'reports written');
  });

  test('--no-slack: no thread at all', async (t) => {
    const lab = requireLab(t);
    if (!lab) return;
    const runId = `slack-off-${process.pid}-${Date.now()}`;
    await run(t, { inventory: lab.inventoryPath, runId, slack: false });
    assert.equal(
      existsSync(join(runDir(stateDirOf(), runId), 'slack-thread.json')),
      true,
      'notify still opened its own',
    );
    const threads = JSON.parse(readFileSync(join(runDir(stateDirOf(), runId), 'slack-thread.json'), 'utf8'));
    assert.equal(threads[`${lab.environment.slack!.channel} header`], undefined);
  });
});
