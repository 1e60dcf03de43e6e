// One state directory per machine: the run lock holds across working directories, `lock:` adds a
// lock, `resume` and `report` work from anywhere, and what holds journal contents is private.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { stateDirOf } from '../../src/system/run-paths.js';
import { runCli, startCli, tempDir, writeFiles } from './helpers.js';
import { setTimeout as sleep } from 'node:timers/promises';

const mode = (path: string) => statSync(path).mode & 0o777;

test('the state directory: --state-dir, $DRILLBOOK_STATE_DIR, $XDG_STATE_HOME, then by user', () => {
  assert.equal(stateDirOf('/x/y', { DRILLBOOK_STATE_DIR: '/a' }), '/x/y');
  assert.equal(stateDirOf(undefined, { DRILLBOOK_STATE_DIR: '/a', XDG_STATE_HOME: '/s' }), '/a');
  assert.equal(stateDirOf(undefined, { XDG_STATE_HOME: '/s' }), '/s/drillbook');
  const byUser = process.getuid?.() === 0 ? '/var/lib/drillbook' : /\.local\/state\/drillbook$/;
  if (typeof byUser === 'string') assert.equal(stateDirOf(undefined, {}), byUser);
  else assert.match(stateDirOf(undefined, {}), byUser);
});

test('two runs on one environment from two directories, one with its own lock: exactly one proceeds', async (t) => {
  const root = tempDir(t);
  const env = { DRILLBOOK_STATE_DIR: join(root, 'state') };
  const [a, b] = ['a', 'b'].map((d) => join(root, d));
  for (const d of [a!, b!]) mkdirSync(d);
  const hold = `steps:\n  - { id: hold, kind: wait, with: { duration: 1500ms } }\n`;
  const plain = writeFiles(a!, hold);
  const ownLock = writeFiles(b!, `lock: nightly\n${hold}`);
  const [x, y] = await Promise.all([
    runCli(t, ['run', plain.runbook, '--env', 'test', '-i', plain.inventory], { cwd: a!, env }),
    runCli(t, ['run', ownLock.runbook, '--env', 'test', '-i', ownLock.inventory], { cwd: b!, env }),
  ]);
  assert.deepEqual([x.code, y.code].sort(), [0, 2], `${x.stderr}\n${y.stderr}`);
  assert.match((x.code === 2 ? x : y).stderr, /lock "test" is held by .+ \(run .+, pid \d+/);
  assert.deepEqual(readdirSync(join(root, 'state', 'locks')), [], 'every lock released');
});

test('resume and report work from another directory; state and reports are private', async (t) => {
  const root = tempDir(t);
  const state = join(root, 'state');
  const env = { DRILLBOOK_STATE_DIR: state };
  const [a, b, c] = ['a', 'b', 'c'].map((d) => join(root, d));
  for (const d of [a!, b!, c!]) mkdirSync(d);
  const files = writeFiles(
    a!,
    `steps:\n  - { id: slow, kind: shell, with: { command: "sleep 20" } }\n  - { id: after, kind: shell, with: { command: "echo after" } }\n`,
  );
  const run = await startCli(
    t,
    ['run', files.runbook, '--env', 'test', '-i', files.inventory, '--run-id', 'moved-1'],
    {
      cwd: a!,
      env,
    },
  );
  const journal = join(state, 'runs', 'moved-1', 'journal.jsonl');
  while (
    (!existsSync(journal) || !/"stepId":"slow"/.test(readFileSync(journal, 'utf8'))) &&
    run.child.exitCode === null
  )
    await sleep(20);
  run.child.kill('SIGKILL');
  await run.done;
  const resumed = await runCli(t, ['resume', 'moved-1', '--skip-interrupted'], { cwd: b!, env });
  assert.equal(resumed.code, 0, resumed.stderr);
  const report = await runCli(t, ['report', 'moved-1', '--format', 'md'], { cwd: c!, env });
  assert.equal(report.code, 0, report.stderr);

  assert.equal(mode(state), 0o700);
  assert.equal(mode(join(state, 'runs', 'moved-1')), 0o700);
  assert.equal(mode(journal), 0o600);
  for (const reports of [join(b!, 'reports'), join(c!, 'reports')]) {
    const [dir] = readdirSync(reports);
    assert.ok(dir, `a report in ${reports}`);
    assert.equal(mode(join(reports, dir)), 0o700, `${reports}/${dir}`);
    for (const f of readdirSync(join(reports, dir))) assert.equal(mode(join(reports, dir, f)), 0o600, f);
  }
});
