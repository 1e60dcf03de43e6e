// A drillbook killed outright leaves its shell output directory in /dev/shm (nothing of it runs to
// remove it): the next drillbook's first shell step removes it, and leaves a live one's alone.
// Its own file: the sweep runs when a process starts its zygote, once.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runInProcess } from './helpers.js';

test('the first shell step removes the output directories of dead drillbooks, not of live ones', async (t) => {
  // A pid that is surely gone: a process that has run and been reaped.
  const dead = spawnSync('true').pid!;
  const orphan = join('/dev/shm', `drillbook-shell-${dead}-test`);
  const live = join('/dev/shm', `drillbook-shell-${process.ppid}-test`);
  for (const dir of [orphan, live]) {
    mkdirSync(dir);
    writeFileSync(join(dir, 'out'), 'left behind');
  }
  t.after(() => [orphan, live].forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const run = await runInProcess(t, `steps:\n  - { id: one, kind: shell, with: { command: 'true' } }\n`);
  assert.equal(run.result.status, 'succeeded');
  assert.equal(existsSync(orphan), false, 'the dead drillbook’s directory');
  assert.equal(existsSync(live), true, 'the live one’s');
});
