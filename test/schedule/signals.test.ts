// SIGTERM during a drill: the daemon starts nothing more, lets the drill finish (or aborts it, and
// the drill reverts and restores), then exits 0. A second signal aborts.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startChild, tempDir } from './processes.js';

const executions = (dir: string) =>
  readdirSync(dir).map((f) => (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { state: string }).state);

describe('daemon signals', () => {
  it('SIGTERM lets the drill in progress finish, then exits', async () => {
    const dir = tempDir('executions');
    const d = startChild({ executions: dir, drillMs: 4000 }); // long enough for a loaded machine
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

  it('a daemon killed mid-drill is reported by the next one on the machine, and not rerun', async () => {
    const dir = tempDir('executions');
    const stateDir = tempDir('daemon-state');
    const victim = startChild({ executions: dir, stateDir, drillMs: 30_000 });
    const run = await victim.waitFor((e) => e.event === 'run');
    // Killed inside the drill, not between the decision and the drill's start.
    while (executions(dir).length === 0) await sleep(20);
    victim.child.kill('SIGKILL');
    await victim.exited;
    const next = startChild({ executions: dir, stateDir, drillMs: 300 });
    const orphan = await next.waitFor((e) => e.event === 'orphan');
    assert.equal(orphan.occurrence, run.occurrence);
    assert.match(
      orphan.message,
      /stopped while running drill fake .*environment lab may still carry the fault/,
    );
    // The environment is marked degraded: the next occurrences wait for a person.
    await next.waitFor((e) => e.event === 'skip' && e.reason === 'degraded');
    next.child.kill('SIGTERM');
    assert.equal(await next.exited, 0, next.stderr());
    assert.ok(!next.events.some((e) => e.event === 'run'), 'nothing ran on the degraded environment');
    assert.deepEqual(executions(dir), ['running']); // the victim's, never finished
  });
});
