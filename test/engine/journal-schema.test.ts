// The events a real run writes match the published events schema, and a journal that does not is
// one clear error on read (resume, report), while journals from before every event carried its run
// id still read.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RunEmitter } from '../../src/engine/events.js';
import { JOURNAL_VERSION, openJournal, readJournal, type JournalHeader } from '../../src/engine/journal.js';
import { UserError } from '../../src/errors.js';
import { assertJournalMatchesSchema } from '../helpers/events-schema.js';
import { runInProcess, tempDir } from './helpers.js';

const header = (runId: string): JournalHeader => ({
  type: 'journal',
  version: JOURNAL_VERSION,
  runId,
  createdAt: '2025-03-01T10:00:00.000Z',
  runbook: { name: 'x', path: '/x.yaml', sha256: 'abc' },
  inventory: '/inv.yaml',
  environment: { name: 'test', label: 'staging' },
  inputs: {},
  operator: 'me@here',
  pid: process.pid,
});

const ts = '2025-03-01T10:00:01.000Z';
const journalOf = (dir: string, ...events: object[]) => {
  const path = join(dir, 'journal.jsonl');
  writeFileSync(path, [header('r1'), ...events].map((e) => JSON.stringify(e) + '\n').join(''));
  return path;
};

test('the journal of a shell-step run (retries, a failure, a rollback) matches schemas/events.schema.json', async (t) => {
  const path = join(tempDir(t), 'runs', 'r1', 'journal.jsonl');
  const journal = openJournal(path, header('r1'));
  const emitter = new RunEmitter('r1');
  emitter.subscribe(journal.subscriber);
  const { result, types } = await runInProcess(
    t,
    `objectives: { rto: 1m }
steps:
  - { id: hello, kind: shell, budget: 10s, with: { command: "echo hello" } }
  - { id: skipped, kind: shell, when: "false", with: { command: "true" } }
  - { id: flaky, kind: shell, retry: { attempts: 2, delay: 1ms }, with: { command: "echo no >&2; exit 3" } }
rollback:
  - { id: undo, kind: shell, with: { command: "echo undone" } }
`,
    { emitter },
  );
  journal.close();
  assert.equal(result.status, 'failed');
  for (const type of ['step-skipped', 'step-attempt-failed', 'rollback-started', 'run-finished'])
    assert.ok(types.includes(type as never), type);
  assertJournalMatchesSchema(path);
  assert.equal(readJournal(path).events.length, types.length);
});

test('a journal line that does not match the events schema is one clear error naming the line', (t) => {
  const dir = tempDir(t);
  const started = { type: 'log', level: 'info', message: 'ok', runId: 'r1', ts, t: 1 };
  const cases: [object, RegExp][] = [
    [
      { ...started, level: 'loud' },
      /journal\.jsonl:3: log event: level must be equal to one of the allowed values/,
    ],
    [
      { ...started, message: undefined },
      /journal\.jsonl:3: log event: must have required property 'message'/,
    ],
    [{ ...started, extra: 1 }, /journal\.jsonl:3: log event: must NOT have additional properties \(extra\)/],
    [{ ...started, type: 'step-exploded' }, /journal\.jsonl:3: unknown run event type "step-exploded"/],
    [{ ...started, runId: 'r2' }, /journal\.jsonl:3: an event of run r2 in the journal of run r1/],
    [[1, 2], /journal\.jsonl:3: not a run event/],
  ];
  for (const [bad, message] of cases) {
    const path = journalOf(dir, started, bad);
    assert.throws(
      () => readJournal(path),
      (err) => err instanceof UserError && message.test(err.message),
      JSON.stringify(bad),
    );
  }
});

test('a journal written before every event carried its run id still reads, with the header’s', (t) => {
  // run-started carried it before; the other events did not.
  const path = journalOf(
    tempDir(t),
    { type: 'log', level: 'warn', message: 'old', ts, t: 0 },
    { type: 'run-finished', status: 'succeeded', durationMs: 5, ts, t: 5 },
  );
  assert.deepEqual(
    readJournal(path).events.map((e) => e.runId),
    ['r1', 'r1'],
  );
});
