// Every shipped drill on a private lab with synchronous replication: each passes, loses no
// acknowledged write, lets no write reach a fenced primary, and leaves the lab in its steady state.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveSecretRef } from '../../src/connectors/secrets.js';
import { readJournal } from '../../src/engine/journal.js';
import { journalPath } from '../../src/system/run-paths.js';
import { UserError } from '../../src/errors.js';
import { runDrill } from '../../src/drill/run-drill.js';
import { checkSteadyState } from '../../src/drill/steady-state.js';
import { labUp } from '../../src/lab/index.js';
import { assertJournalMatchesSchema } from '../helpers/events-schema.js';
import { privateLab } from '../helpers/private-lab.js';

const stateDir = mkdtempSync(join(tmpdir(), 'drillbook-drills-'));
after(() => rmSync(stateDir, { recursive: true, force: true }));
const quiet = { out: () => undefined, err: () => undefined };

describe('a drill aimed at production', () => {
  it('is refused before any connection, with nothing written', async () => {
    const drill = join(stateDir, 'prod.yaml');
    writeFileSync(
      drill,
      `apiVersion: drillbook/v1\nkind: Drill\nmetadata: { name: prod }\nrunbook: ${process.cwd()}/runbooks/pg-failover.yaml\nenvironment: production\ninventory: ${process.cwd()}/examples/inventory.yaml\nfault: { kind: kill-postgres, target: primary }\nobjectives: { rto: 10s, rpo: 0 }\n`,
    );
    await assert.rejects(
      runDrill({ drillFile: drill, stateDir: join(stateDir, 'prod-state') }, quiet),
      (err) => {
        assert.ok(err instanceof UserError);
        assert.match(
          err.format(),
          /prod\.yaml:5:14: drills run only on environments labelled staging; "production" is labelled production/,
        );
        return true;
      },
    );
    assert.throws(() => readFileSync(join(stateDir, 'prod-state', 'runs')), /ENOENT/);
  });
});

describe('shipped drills on a private lab', () => {
  const lab = privateLab(11, { sync: true });
  const drills = ['primary-kill', 'primary-freeze', 'network-partition', 'replica-lag', 'switchover'];

  for (const name of drills) {
    it(`drills/${name}.yaml passes and restores the lab`, async (t) => {
      const l = lab(t);
      if (!l) return;
      if (name === 'network-partition' && process.getuid?.() !== 0) return t.skip('partition needs root');
      const outcome = await runDrill(
        { drillFile: `drills/${name}.yaml`, inventoryFile: l.inventoryPath, stateDir },
        quiet,
      );
      // The drill's journal, as written, matches the published events schema.
      assertJournalMatchesSchema(journalPath(stateDir, outcome.runId));
      const finished = readJournal(journalPath(stateDir, outcome.runId)).events.find(
        (e) => e.type === 'drill-finished',
      );
      assert.ok(finished && finished.type === 'drill-finished');
      assert.equal(outcome.verdict, 'pass', finished.reasons.join('\n'));
      assert.equal(outcome.figures?.rpoRows, 0);
      assert.equal(outcome.figures?.splitBrainWrites, 0);
      assert.ok(outcome.figures?.rtoMs !== undefined && outcome.figures.rtoMs <= 15_000);
      assert.equal(outcome.restore?.status, 'succeeded');
      assert.ok(finished.phases.length > 0);
      const steady = await checkSteadyState(l.env, resolveSecretRef);
      assert.deepEqual(steady.problems, []);
    });
  }

  it('stop-postgres (an immediate shutdown over SSH) is failed over like a kill', async (t) => {
    const l = lab(t);
    if (!l) return;
    const drill = join(stateDir, 'stop-postgres.yaml');
    writeFileSync(
      drill,
      `apiVersion: drillbook/v1\nkind: Drill\nmetadata: { name: stop-postgres }\nrunbook: ${process.cwd()}/runbooks/pg-failover.yaml\nrestore: ${process.cwd()}/runbooks/pg-failback.yaml\nenvironment: lab\nfault: { kind: stop-postgres, target: primary }\nobjectives: { rto: 15s, rpo: 0 }\n`,
    );
    const outcome = await runDrill({ drillFile: drill, inventoryFile: l.inventoryPath, stateDir }, quiet);
    assert.equal(outcome.verdict, 'pass', outcome.reasons?.join('\n'));
    const events = readJournal(journalPath(stateDir, outcome.runId)).events;
    assert.ok(
      events.some(
        (e) => e.type === 'log' && /stopped pg1 with an immediate shutdown via ssh:pg1/.test(e.message),
      ),
    );
    assert.equal(outcome.restore?.status, 'succeeded');
  });

  it('a stop condition over the probe aborts the drill, reverts the fault, and leaves the lab steady', async (t) => {
    const l = lab(t);
    if (!l) return;
    const drill = join(stateDir, 'stop.yaml');
    writeFileSync(
      drill,
      `apiVersion: drillbook/v1\nkind: Drill\nmetadata: { name: stop }\nrunbook: ${process.cwd()}/runbooks/pg-failover.yaml\nrestore: ${process.cwd()}/runbooks/pg-failback.yaml\nenvironment: lab\nfault: { kind: freeze, target: primary, duration: 10s }\nobjectives: { rto: 10s, rpo: 0 }\nstopConditions: { when: "probe.outageMs > 150" }\n`,
    );
    const outcome = await runDrill({ drillFile: drill, inventoryFile: l.inventoryPath, stateDir }, quiet);
    assert.equal(outcome.verdict, 'aborted');
    assert.match(outcome.reasons?.join('\n') ?? '', /stop condition "probe.outageMs > 150" held/);
    const events = readJournal(journalPath(stateDir, outcome.runId)).events;
    assert.ok(events.some((e) => e.type === 'fault-reverted' && /resumed pg1/.test(e.detail)));
    const steady = await checkSteadyState(l.env, resolveSecretRef);
    assert.deepEqual(steady.problems, []);
  });

  it('a drill killed mid-fault leaves the fault to the next lab up, which reverts it', async (t) => {
    const l = lab(t);
    if (!l) return;
    const child = spawn(
      process.execPath,
      [
        'bin/drillbook.js',
        'drill',
        'drills/primary-freeze.yaml',
        '-i',
        l.inventoryPath,
        '--json',
        '--state-dir',
        stateDir,
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('"fault-injected"')) resolve();
      });
      child.on('exit', () => reject(new Error(`the drill ended before its fault: ${out.slice(-500)}`)));
    });
    child.kill('SIGKILL');
    const pid = Number(
      readFileSync(join(l.env.postgres.nodes.pg1!.dataDir!, 'postmaster.pid'), 'utf8').split('\n')[0],
    );
    const state = () => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0];
    assert.equal(state(), 'T', 'the primary is still frozen after drillbook died');
    const { lines } = await labUp({ dir: l.dir });
    assert.ok(
      lines.some((line) => /pg1: resumed \d+ process\(es\) a drill had frozen/.test(line)),
      lines.join('\n'),
    );
    assert.notEqual(state(), 'T');
    const steady = await checkSteadyState(l.env, resolveSecretRef);
    assert.deepEqual(steady.problems, []);
  });
});
