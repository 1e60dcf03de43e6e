// The backup drills on a private lab with WAL archiving (slot 16): the monthly restore test, and an
// accidental DELETE recovered by point-in-time recovery to the instant the fault recorded. The
// probe rows are counted independently of the drill, so RPO is checked against the database.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveSecretRef } from '../../src/connectors/secrets.js';
import { probeRowKey } from '../../src/drill/probe.js';
import { runDrill } from '../../src/drill/run-drill.js';
import { checkSteadyState } from '../../src/drill/steady-state.js';
import { readJournal } from '../../src/engine/journal.js';
import { journalPath } from '../../src/system/run-paths.js';
import type { RunEvent } from '../../src/engine/events.js';
import { DEFAULT_CLIENT_PROFILE } from '../../src/schema/drill.js';
import { sql } from '../backup/fixture.js';
import { privateLab, type PrivateLab } from '../helpers/private-lab.js';
import { failures, runRunbook } from '../helpers/runbook-run.js';

const stateDir = mkdtempSync(join(tmpdir(), 'drillbook-backup-drills-'));
after(() => rmSync(stateDir, { recursive: true, force: true }));
const quiet = { out: () => undefined, err: () => undefined };

const eventsOf = (runId: string) => readJournal(journalPath(stateDir, runId)).events;
const finishedOf = (events: RunEvent[]) => {
  const f = events.find((e) => e.type === 'drill-finished');
  assert.ok(f && f.type === 'drill-finished');
  return f;
};
const stepOutputs = (events: RunEvent[], id: string) => {
  const e = events.find((x) => x.type === 'step-finished' && x.stepId === id && x.phase === 'main');
  assert.ok(e && e.type === 'step-finished', `step ${id} did not finish`);
  return e;
};
/** The probe rows of a drill that names no client profile: its one typical client's. */
const typicalRows = (runId: string) => probeRowKey(runId, DEFAULT_CLIENT_PROFILE);
const probeRows = async (l: PrivateLab, runId: string) =>
  Number(
    (
      await sql<{ n: string }>(l, 'SELECT count(*) AS n FROM drillbook_probe WHERE run_id = $1', [
        typicalRows(runId),
      ])
    )[0]!.n,
  );

/** Runs a shipped drill on the lab and asserts it passed; its journal's events and verdict. */
async function drillPasses(l: PrivateLab, drillFile: string) {
  const outcome = await runDrill({ drillFile, inventoryFile: l.inventoryPath, stateDir }, quiet);
  const events = eventsOf(outcome.runId);
  const finished = finishedOf(events);
  assert.equal(outcome.verdict, 'pass', finished.reasons.join('\n'));
  return { outcome, events, finished };
}

describe('backup drills on a lab with WAL archiving', () => {
  const lab = privateLab(16, { archive: true, archiveTimeout: '1s', replicas: 1, sync: true });
  let restoreRunId = '';
  let restoreRows = 0;

  it('drills/monthly-restore-test.yaml restores the newest backup, verified, while clients write on', async (t) => {
    const l = lab(t);
    if (!l) return;
    const store = l.env.backups!.store;
    const backup = await runRunbook(l, 'backup-full.yaml', { stateDir, set: [`store=${store}`] });
    assert.equal(backup.code, 0, failures(backup));

    const { outcome, events, finished } = await drillPasses(l, 'drills/monthly-restore-test.yaml');
    assert.equal(finished.figures.rtoBasis, 'recovery');
    const restored = stepOutputs(events, 'restore');
    assert.equal(restored.outputs.label, backup.steps.get('backup')!.outputs.label);
    // The RTO spans the runbook up to the verified copy: at least the restore step itself.
    assert.ok(
      finished.figures.rtoMs! >= restored.durationMs,
      `${finished.figures.rtoMs} < ${restored.durationMs}`,
    );
    assert.ok(finished.figures.rtoMs! <= 5 * 60_000);
    assert.equal(finished.figures.rpoRows, 0);
    t.diagnostic(
      `monthly restore test: RTO ${Math.round(finished.figures.rtoMs!)} ms (restore step ${Math.round(restored.durationMs)} ms), ${finished.figures.writesAcked}/${finished.figures.writesSent} probe writes acknowledged`,
    );
    // Clients write on: a slow write on a busy 2-core machine may time out (500 ms), no more.
    const { writesAcked, writesSent } = finished.figures;
    assert.ok(writesAcked >= 0.95 * writesSent, `${writesAcked} of ${writesSent} writes acknowledged`);
    restoreRunId = outcome.runId;
    restoreRows = await probeRows(l, restoreRunId);
    assert.ok(restoreRows > 0);
  });

  it('drills/accidental-delete.yaml deletes the rows, recovers them to the recorded instant, loses none', async (t) => {
    const l = lab(t);
    if (!l) return;
    const { events, finished } = await drillPasses(l, 'drills/accidental-delete.yaml');
    const injected = events.find((e) => e.type === 'fault-injected');
    assert.ok(injected && injected.type === 'fault-injected');
    const deleted = Number(/rows (\d+)/.exec(injected.detail)![1]);
    assert.ok(deleted >= restoreRows, `the DELETE took ${deleted} rows`);
    const recover = stepOutputs(events, 'recover');
    assert.equal(recover.status, 'succeeded');
    const copied = recover.outputs.copiedBack as { inserted: number; read: number };
    assert.equal(copied.inserted, deleted, 'every deleted row came back, and only those');
    assert.equal(finished.figures.rtoBasis, 'recovery');
    assert.ok(finished.figures.rtoMs! > 0 && finished.figures.rtoMs! <= 120_000);
    assert.equal(finished.figures.rpoRows, 0);
    t.diagnostic(
      `accidental delete: ${deleted} rows deleted, ${copied.inserted} copied back, RTO ${Math.round(finished.figures.rtoMs!)} ms, RPO ${finished.figures.rpoRows} rows`,
    );
    // Independently of the drill: the earlier drill's probe rows are all back.
    assert.equal(await probeRows(l, restoreRunId), restoreRows);
    const steady = await checkSteadyState(l.env, resolveSecretRef);
    assert.deepEqual(steady.problems, []);
  });

  it('without a backup to recover from, the rows stay lost and the drill says how many', async (t) => {
    const l = lab(t);
    if (!l) return;
    const empty = join(stateDir, 'empty-store');
    const outcome = await runDrill(
      {
        drillFile: 'drills/accidental-delete.yaml',
        inventoryFile: l.inventoryPath,
        stateDir,
        inputs: { store: empty },
      },
      quiet,
    );
    const finished = finishedOf(eventsOf(outcome.runId));
    assert.equal(outcome.verdict, 'fail');
    assert.equal(finished.figures.rtoMs, undefined);
    assert.match(finished.reasons.join('\n'), /the runbook failed: .*backup/);
    assert.match(finished.reasons.join('\n'), /the data was never recovered/);
    // The rows the drill counts as lost are the ones the database lacks: all written before the DELETE.
    const lost = finished.figures.lostSeqs;
    assert.ok(finished.figures.rpoRows > 0 && finished.figures.rpoRows === lost.length);
    const present = (
      await sql<{ seq: number }>(l, 'SELECT seq FROM drillbook_probe WHERE run_id = $1', [
        typicalRows(outcome.runId),
      ])
    ).map((r) => r.seq);
    assert.deepEqual(
      lost.filter((seq) => present.includes(seq)),
      [],
    );
    assert.ok(Math.max(...lost) < Math.min(...present), 'only rows from before the DELETE are lost');
  });
});
