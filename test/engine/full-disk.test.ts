// The state directory on a full disk (a 64 KiB tmpfs): the run stops before its next step with
// one line (exit 1, the cause, the path), the journal has no torn line, the lock goes, a lock file
// left empty by ENOSPC does not block the environment, and the run resumes once there is room.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readJournal } from '../../src/engine/journal.js';
import { runCli, writeFiles } from './helpers.js';

const lines = (file: string) =>
  existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];

test('a full disk under the state directory stops the run cleanly and blocks nothing', async (t) => {
  assert.equal(process.getuid?.(), 0, 'mounting a tmpfs needs root');
  const dir = mkdtempSync(join(tmpdir(), 'drillbook-full-disk-'));
  const state = join(dir, 'state');
  mkdirSync(state);
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', state], { encoding: 'utf8' });
  t.after(() => {
    if (mount.status === 0) spawnSync('umount', [state]);
    rmSync(dir, { recursive: true, force: true });
  });
  assert.equal(mount.status, 0, mount.stderr);
  const env = { DRILLBOOK_STATE_DIR: state };
  const out = join(dir, 'out.txt');
  // s0's 100 kB of output cannot be journaled: its step-finished is the write that fails.
  const files = writeFiles(
    dir,
    `steps:
  - { id: s0, kind: shell, with: { command: "echo s0 >> ${out}; yes x | head -c 100000" } }
  - { id: s1, kind: shell, with: { command: "echo s1 >> ${out}" } }
`,
  );
  const args = ['run', files.runbook, '--env', 'test', '-i', files.inventory];
  const full = await runCli(t, [...args, '--run-id', 'full-1'], { cwd: dir, env });
  assert.equal(full.code, 1, full.stderr);
  const errors = full.stderr.split('\n').filter(Boolean);
  assert.equal(errors.length, 1, full.stderr);
  assert.match(
    errors[0]!,
    /^failed: cannot write \S+\/runs\/full-1\/journal\.jsonl: .*(ENOSPC|no space left)/,
  );
  assert.deepEqual(lines(out), ['s0'], 'nothing ran after the journal failed');
  assert.deepEqual(readdirSync(join(state, 'locks')), [], 'the lock released');
  // No torn line: s0 counts as in flight (its end was never recorded), read without complaint.
  const journal = join(state, 'runs', 'full-1', 'journal.jsonl');
  assert.ok(readFileSync(journal, 'utf8').endsWith('\n'));
  assert.ok(!readJournal(journal).events.some((e) => e.type === 'step-finished'));

  // Still full: a new run fails to write its lock (one line), and leaves no empty lock behind.
  const filler = join(state, 'filler');
  spawnSync('sh', ['-c', `head -c 70000 /dev/zero > ${filler}`]);
  const blocked = await runCli(t, [...args, '--run-id', 'full-2'], { cwd: dir, env });
  assert.equal(blocked.code, 1, blocked.stderr);
  assert.match(blocked.stderr, /^failed: cannot write \S+\/locks\/test\.lock: .*(ENOSPC|no space left)/);
  assert.deepEqual(readdirSync(join(state, 'locks')), []);

  // Room again. An empty lock file (as an older drillbook left on ENOSPC) is stale, not "held".
  rmSync(filler);
  writeFileSync(join(state, 'locks', 'test.lock'), '');
  utimesSync(join(state, 'locks', 'test.lock'), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
  spawnSync('mount', ['-o', 'remount,size=1m', state]);
  const resumed = await runCli(t, ['resume', 'full-1', '--retry-interrupted'], { cwd: dir, env });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual(lines(out), ['s0', 's0', 's1'], 's0 again once (its end was never recorded), then s1');
});
