import assert from 'node:assert/strict';
import fs, { readFileSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { mock, test } from 'node:test';
import { resolveSecretRef, namedSecrets } from '../../src/connectors/secrets.js';
import { RunEmitter } from '../../src/engine/events.js';
import { JOURNAL_VERSION, openJournal, readJournal, type JournalHeader } from '../../src/engine/journal.js';
import { Redactor } from '../../src/connectors/redact.js';
import { UserError } from '../../src/errors.js';
import { runInProcess, tempDir } from './helpers.js';

const header = (runId: string): JournalHeader => ({
  type: 'journal',
  version: JOURNAL_VERSION,
  runId,
  createdAt: new Date().toISOString(),
  runbook: { name: 'x', path: '/x.yaml', sha256: 'abc' },
  inventory: '/inv.yaml',
  environment: { name: 'test', label: 'staging' },
  inputs: {},
  operator: 'me@here',
  pid: process.pid,
});

test('the journal is a header line then one event per line, flushed at step boundaries', async (t) => {
  const path = join(tempDir(t), 'runs', 'r1', 'journal.jsonl');
  const syncs = mock.method(fs, 'fdatasyncSync');
  syncBuiltinESMExports();
  t.after(() => {
    syncs.mock.restore();
    syncBuiltinESMExports();
  });
  const journal = openJournal(path, header('r1'));
  const emitter = new RunEmitter('r1');
  emitter.subscribe(journal.subscriber);
  await runInProcess(
    t,
    `steps:
  - { id: a, kind: wait, with: { duration: 0ms } }
  - { id: b, kind: wait, with: { duration: 0ms } }
`,
    { emitter },
  );
  journal.close();
  const lines = readFileSync(path, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string });
  assert.deepEqual(
    lines.map((l) => l.type),
    [
      'journal',
      'run-started',
      'step-started',
      'step-finished',
      'step-started',
      'step-finished',
      'run-finished',
    ],
  );
  // header, run-started, each step-started (the boundary before a step acts), run-finished, close.
  assert.equal(syncs.mock.callCount(), 6);
  assert.throws(() => openJournal(path, header('r1')), /already exists/);
});

test('a torn last line is ignored when read and cut off before appending', (t) => {
  const path = join(tempDir(t), 'journal.jsonl');
  writeFileSync(path, JSON.stringify(header('r2')) + '\n' + '{"type":"step-sta');
  assert.equal(readJournal(path).events.length, 0);
  const journal = openJournal(path);
  journal.subscriber({
    type: 'log',
    level: 'info',
    message: 'hi',
    runId: 'r2',
    ts: new Date().toISOString(),
    t: 0,
  });
  journal.close();
  assert.deepEqual(
    readJournal(path).events.map((e) => e.type),
    ['log'],
  );
  writeFileSync(path, JSON.stringify(header('r2')) + '\nnot json\n{}\n');
  assert.throws(() => readJournal(path), /damaged journal line/);
});

test('secrets are redacted in every event before any subscriber sees them', async (t) => {
  const secret = 'hunter2-very-secret';
  const seen: string[] = [];
  const emitter = new RunEmitter('r1');
  emitter.subscribe((e) => seen.push(JSON.stringify(e)));
  const file = join(tempDir(t), 'pw');
  writeFileSync(file, 'file-secret-value\n');
  const { result } = await runInProcess(
    t,
    `steps:
  - { id: s, kind: shell, with: { command: "echo \${{ secrets.TOKEN }} && cat ${file}" } }
  - { id: f, kind: shell, with: { command: "echo \${{ steps.s.outputs.stdout }} >&2; exit 1" } }
`,
    { emitter, secrets: { TOKEN: secret } },
  );
  assert.equal(result.status, 'failed');
  const all = seen.join('\n');
  assert.ok(!all.includes(secret));
  assert.ok(all.includes('echo ***'));
  // A value read through ctx.secret (file:, env:) is registered the moment it is resolved.
  emitter.redactor.add(await resolveSecretRef(`file:${file}`), `file:${file}`);
  emitter.emit({ type: 'log', level: 'info', message: 'file-secret-value leaked?' });
  assert.ok(seen.at(-1)!.includes('*** leaked?'));
});

test('Redactor replaces longest secrets first, in nested values, never in keys', () => {
  const r = new Redactor();
  r.add('abcd', 'env:A');
  r.add('abcdefg', 'env:B');
  assert.deepEqual(r.redact({ k: ['xabcdefgx', { abcd: 'abcd' }] }), { k: ['x***x', { abcd: '***' }] });
});

test('Redactor: kept paths stay as they are; everything else is redacted', () => {
  const r = new Redactor();
  r.add('step', 'secrets.WORD');
  const event = {
    type: 'step-started',
    stepId: 'step',
    input: { type: 'step', note: 'a step' },
    steps: [{ id: 'step', name: 'step' }],
  };
  const keep = (path: string) => ['type', 'stepId', 'steps.*.id'].includes(path);
  assert.deepEqual(r.redact(event, keep), {
    type: 'step-started',
    stepId: 'step',
    input: { type: '***', note: 'a ***' },
    steps: [{ id: 'step', name: '***' }],
  });
});

test('Redactor: the base64, URL-encoded and JSON-escaped forms of a secret are redacted too', () => {
  const secret = 'p@ss w/"quote"+more?';
  const r = new Redactor();
  r.add(secret, 'env:PW');
  const b64 = Buffer.from(secret).toString('base64');
  const forms = [
    b64,
    b64.replace(/=+$/, ''),
    b64.replace(/\+/g, '-').replace(/\//g, '_'),
    encodeURIComponent(secret),
    new URLSearchParams({ q: secret }).toString().slice(2),
    JSON.stringify(secret).slice(1, -1),
    JSON.stringify({ pw: secret }),
  ];
  for (const form of forms) assert.doesNotMatch(r.redactString(`<${form}>`), /p@ss|cXVvdGUi|p%40ss/, form);
  assert.equal(r.redactString(`Authorization: Basic ${b64}`), 'Authorization: Basic ***');
});

test('Redactor refuses a secret shorter than 4 characters, naming it without its value', () => {
  const r = new Redactor();
  assert.throws(
    () => r.add('q7z', 'env:SHORT_ONE'),
    (err: Error) =>
      err instanceof UserError &&
      /env:SHORT_ONE.*shorter than 4 characters/.test(err.message) &&
      !err.message.includes('q7z'),
  );
  assert.throws(() => r.add('', 'DRILLBOOK_SECRET_EMPTY'), UserError);
  r.add('q7z!', 'env:FOUR');
  assert.equal(r.redactString('q7z!'), '***');
});

test('secret references: env:, file: with ~ expansion, and secrets.NAME from DRILLBOOK_SECRET_NAME', async (t) => {
  process.env.ENGINE_TEST_SECRET = 'from-env';
  process.env.DRILLBOOK_SECRET_API = 'from-drillbook-env';
  t.after(() => {
    delete process.env.ENGINE_TEST_SECRET;
    delete process.env.DRILLBOOK_SECRET_API;
  });
  assert.equal(await resolveSecretRef('env:ENGINE_TEST_SECRET'), 'from-env');
  await assert.rejects(resolveSecretRef('env:ENGINE_TEST_MISSING'), /not set/);
  const name = `.drillbook-engine-test-${process.pid}`;
  writeFileSync(join(homedir(), name), 'tilde\n');
  t.after(() => fs.rmSync(join(homedir(), name), { force: true }));
  assert.equal(await resolveSecretRef(`file:~/${name}`), 'tilde');
  assert.deepEqual(namedSecrets(['API']), { API: 'from-drillbook-env' });
  assert.throws(() => namedSecrets(['NOPE']), /export DRILLBOOK_SECRET_NOPE/);
});
