// `drillbook daemon` end to end on a private lab (the shared test lab keeps its topology): a
// shipped drill whose occurrence was missed runs once at start-up (catchUp: once) through the real
// drill code, passes, restores the lab and posts to Slack; SIGTERM then stops the daemon.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { resolveSecretRef } from '../../src/connectors/secrets.js';
import { checkSteadyState } from '../../src/drill/steady-state.js';
import { readState, updateState } from '../../src/schedule/state.js';
import type { Drill } from '../../src/schema/drill.js';
import { privateLab, type PrivateLab } from '../helpers/private-lab.js';
import { tempDir, type LoggedEvent } from './processes.js';

/**
 * Starts `drillbook daemon` on a copy of the shipped primary-kill drill whose monthly occurrences
 * were missed (so it runs one at once), and collects its JSON log lines until `until` matches.
 */
async function daemonOnLab(l: PrivateLab, extraArgs: string[], until: (e: LoggedEvent) => boolean) {
  const drill = parse(readFileSync('drills/primary-kill.yaml', 'utf8')) as Drill;
  drill.runbook = resolve('drills', drill.runbook);
  drill.restore = resolve('drills', drill.restore!);
  assert.equal(drill.schedule?.catchUp, 'once');
  const dir = tempDir('e2e-drills');
  writeFileSync(join(dir, 'primary-kill.yaml'), stringify(drill));
  const stateDir = tempDir('e2e-state');
  // Watched since January: its monthly occurrences since then were missed.
  updateState(stateDir, 'primary-kill', () => ({ watchedSince: '2026-01-01T00:00:00.000Z' }));
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'test/engine/cli-entry.ts',
      'daemon',
      dir,
      '-i',
      l.inventoryPath,
      '--state-dir',
      stateDir,
      '--json',
      ...extraArgs,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const events: LoggedEvent[] = [];
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`nothing awaited in 5 minutes:\n${stderr}`)), 300_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const e = JSON.parse(line) as LoggedEvent;
      events.push(e);
      if (!until(e)) return;
      clearTimeout(timer);
      done();
    });
    void exited.then((code) => fail(new Error(`the daemon exited (${code}) too early:\n${stderr}`)));
  });
  return { child, events, exited, stateDir, stderr: () => stderr };
}

describe('drillbook daemon on a private lab', () => {
  // Slot 20: 127.0.0.200.. and ports 16600..16605 (see test/helpers/private-lab.ts).
  const lab = privateLab(20, { sync: true });

  it('runs a missed occurrence of drills/primary-kill.yaml once, which passes and restores', async (t) => {
    const l = lab(t);
    if (!l) return;
    const { child, events, exited, stateDir, stderr } = await daemonOnLab(
      l,
      [],
      (e) => e.event === 'done' || e.event === 'error',
    );
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr());

    const decisions = events.filter((e) => e.event !== 'output');
    const missed = decisions.find((e) => e.event === 'missed')!;
    assert.match(missed.message, /catchUp once: running the latest now/);
    assert.deepEqual(
      decisions.filter((e) => e.event === 'run').map((e) => e.occurrence),
      [missed.occurrence],
    );
    const done = decisions.find((e) => e.event === 'done')!;
    const output = events
      .filter((e) => e.event === 'output')
      .map((e) => e.message)
      .join('\n');
    assert.equal(done.verdict, 'pass', output.slice(-3000));
    assert.deepEqual(
      decisions.slice(-2).map((e) => e.event),
      ['stop', 'exit'],
    );
    assert.equal(readState(stateDir)['primary-kill']!.lastRun?.runId, done.runId);

    const steady = await checkSteadyState({ ...l.env }, resolveSecretRef);
    assert.deepEqual(steady.problems, []);
    const slack = readFileSync(join(l.dir, 'slack', 'messages.jsonl'), 'utf8');
    assert.ok(slack.includes(String(done.runId)), 'the drill posted its Slack thread');
  });
  it('SIGTERM during a drill lets it finish (--on-stop finish): the lab is left healthy', async (t) => {
    const l = lab(t);
    if (!l) return;
    const { child, events, exited, stderr } = await daemonOnLab(
      l,
      ['--on-stop', 'finish'],
      (e) => e.event === 'run',
    );
    // Into the drill: its fault is in place and the failover under way.
    await new Promise((r) => setTimeout(r, 1500));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr());
    const done = events.find((e) => e.event === 'done');
    assert.ok(done, `the drill in progress finished before the daemon exited:\n${stderr()}`);
    assert.equal(done.verdict, 'pass', 'finished, not aborted');
    assert.equal(events.at(-1)?.event, 'exit');
    const steady = await checkSteadyState({ ...l.env }, resolveSecretRef);
    assert.deepEqual(steady.problems, []);
  });
});
