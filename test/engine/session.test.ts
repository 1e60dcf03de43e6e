// The session records and shows a run only through what its caller attaches (journal, views,
// reports): the engine opens no journal of its own, and attachments finish last-attached first.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { newRun } from '../../src/engine/new-run.js';
import { runSession, type Attach } from '../../src/engine/session.js';
import { standardSession } from '../../src/compose/session.js';
import { prepareRun } from '../../src/runbook/prepare.js';
import { journalPath } from '../../src/system/run-paths.js';
import { tempDir, writeFiles } from './helpers.js';

const quiet = { out: () => undefined, err: () => undefined };

function spec(t: Parameters<typeof tempDir>[0]) {
  const dir = tempDir(t);
  const files = writeFiles(dir, `steps:\n  - { id: w, kind: wait, with: { duration: 0ms } }\n`);
  const prepared = prepareRun({
    runbookFile: files.runbook,
    inventoryFile: files.inventory,
    envName: 'test',
  });
  return { dir, ...newRun(prepared, files.runbook) };
}

test('runSession journals nothing by itself; attachments see every event and finish in reverse order', async (t) => {
  const { dir, spec: s } = spec(t);
  const order: string[] = [];
  const seen: string[] = [];
  const recorder =
    (name: string): Attach =>
    async ({ emitter }) => {
      if (name === 'first') emitter.subscribe((e) => seen.push(e.type));
      return { finish: async () => void order.push(name) };
    };
  const code = await runSession(s, { stateDir: dir, attach: [recorder('first'), recorder('second')] }, quiet);
  assert.equal(code, 0);
  assert.equal(existsSync(journalPath(dir, s.runId)), false, 'the engine wrote a journal of its own');
  assert.deepEqual(seen.at(0), 'run-started');
  assert.deepEqual(seen.at(-1), 'run-finished');
  assert.deepEqual(order, ['second', 'first']);
});

test('the standard session attaches the journal, with its redacted header', async (t) => {
  const { dir, spec: s, header } = spec(t);
  const code = await standardSession(s, { stateDir: dir, header, json: true, reportsDir: false }, quiet);
  assert.equal(code, 0);
  const lines = readFileSync(journalPath(dir, s.runId), 'utf8').trim().split('\n');
  assert.equal(JSON.parse(lines[0]!).type, 'journal');
  assert.equal(JSON.parse(lines.at(-1)!).type, 'run-finished');
});
