// SIGTERM during a drill: the daemon starts nothing more, lets the drill finish (or aborts it, and
// the drill reverts and restores), then exits 0. A second signal aborts.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startChild, tempDir } from './processes.js';

const executions = (dir: string) =>
  readdirSync(dir).map((f) => (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { state: string }).state);

describe('daemon signals', () => {
  it('SIGTERM lets the drill in progress finish, then exits', async () => {
    const dir = tempDir('executions');
    const d = startChild({ executions: dir, drillMs: 1500 });
    await d.waitFor((e) => e.event === 'run');
    d.child.kill('SIGTERM');
    assert.equal(await d.exited, 0, d.stderr());
    const kinds = d.events.map((e) => e.event);
    const after = kinds.slice(kinds.indexOf('stop'));
    assert.deepEqual(
      after.filter((k) => k !== 'skip'),
      ['stop', 'stop', 'done', 'exit'],
    );
    assert.equal(d.events.find((e) => e.event === 'done')!.verdict, 'pass');
    assert.deepEqual(executions(dir), ['finished']);
  });

  it('with --on-stop abort, the drill is aborted: it restores, then the daemon exits', async () => {
    const dir = tempDir('executions');
    const d = startChild({ executions: dir, drillMs: 30_000, onStop: 'abort' });
    await d.waitFor((e) => e.event === 'run');
    const t0 = Date.now();
    d.child.kill('SIGTERM');
    assert.equal(await d.exited, 0, d.stderr());
    assert.ok(Date.now() - t0 < 10_000, 'the drill did not run to its end');
    assert.equal(d.events.find((e) => e.event === 'done')!.verdict, 'aborted');
    assert.match(
      d.events.find((e) => e.event === 'stop' && /aborting/.test(e.message))!.message,
      /revert their fault/,
    );
    assert.deepEqual(executions(dir), ['restored']);
  });

  it('a second SIGTERM aborts a drill that was let finish', async () => {
    const dir = tempDir('executions');
    const d = startChild({ executions: dir, drillMs: 30_000 });
    await d.waitFor((e) => e.event === 'run');
    d.child.kill('SIGTERM');
    await d.waitFor((e) => e.event === 'stop' && /finish/.test(e.message));
    d.child.kill('SIGTERM');
    assert.equal(await d.exited, 0, d.stderr());
    assert.equal(d.events.find((e) => e.event === 'done')!.verdict, 'aborted');
    assert.deepEqual(executions(dir), ['restored']);
  });
});
