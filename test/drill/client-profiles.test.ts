// primary-kill on a private lab with synchronous replication and three clients side by side (an
// impatient one, a typical application and a libpq-style multi-host list): each has its own
// figures, the recovery chain is in time order, and the failback's outage is reported per client.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveSecretRef } from '../../src/connectors/secrets.js';
import { runDrill } from '../../src/drill/run-drill.js';
import { formatOutcome } from '../../src/drill/summary.js';
import { checkSteadyState } from '../../src/drill/steady-state.js';
import { readJournal } from '../../src/engine/journal.js';
import { TIMELINE_MARKS } from '../../src/schema/drill-outcome.js';
import { journalPath } from '../../src/system/run-paths.js';
import { assertJournalMatchesSchema } from '../helpers/events-schema.js';
import { privateLab } from '../helpers/private-lab.js';

const stateDir = mkdtempSync(join(tmpdir(), 'drillbook-profiles-'));
after(() => rmSync(stateDir, { recursive: true, force: true }));
const quiet = { out: () => undefined, err: () => undefined };

describe('client profiles in a primary-kill drill', () => {
  const lab = privateLab(23, { sync: true });

  it('every profile has plausible figures, the chain is ordered, the restore outage is reported', async (t) => {
    const l = lab(t);
    if (!l) return;
    const drill = join(stateDir, 'profiles.yaml');
    writeFileSync(
      drill,
      [
        'apiVersion: drillbook/v1',
        'kind: Drill',
        'metadata: { name: profiles }',
        `runbook: ${process.cwd()}/runbooks/pg-failover.yaml`,
        `restore: ${process.cwd()}/runbooks/pg-failback.yaml`,
        'environment: lab',
        'fault: { kind: kill-postgres, target: primary }',
        'probe:',
        '  interval: 50ms',
        '  clients:',
        '    - { name: impatient, connectTimeout: 500ms, writeTimeout: 500ms, reconnectDelay: 0s }',
        '    - { name: typical, connectTimeout: 5s, writeTimeout: 5s, reconnectDelay: 200ms }',
        '    - { name: multihost, connectTimeout: 1s, writeTimeout: 1s, reconnectDelay: 100ms, via: [pg1, pg2, pg3] }',
        'objectives: { rto: 15s, rpo: 0, profile: typical, restoreOutage: 15s }',
        '',
      ].join('\n'),
    );
    const outcome = await runDrill({ drillFile: drill, inventoryFile: l.inventoryPath, stateDir }, quiet);
    assertJournalMatchesSchema(journalPath(stateDir, outcome.runId));
    t.diagnostic(formatOutcome(outcome));
    const f = outcome.figures!;
    assert.equal(outcome.verdict, 'pass', `${outcome.reasons?.join('\n')}\n${formatOutcome(outcome)}`);
    assert.equal(f.profile, 'typical');
    assert.deepEqual(
      f.clients!.map((c) => c.name),
      ['impatient', 'typical', 'multihost'],
    );
    for (const c of f.clients!) {
      const what = `${c.name}: ${JSON.stringify(c)}`;
      assert.ok(c.rtoMs !== undefined && c.rtoMs > 0 && c.rtoMs < 15_000, what);
      assert.ok(c.longestGapMs > 0 && c.longestGapMs < 15_000, what);
      assert.ok(c.writesFailed > 0, `${what}: a killed primary fails some writes`);
      assert.equal(c.rpoRows, 0, `${what}: synchronous replication loses nothing`);
      assert.equal(c.splitBrainWrites, 0, what);
      assert.ok(c.writesAcked > 10, what);
      assert.ok(c.restoreOutageMs !== undefined && c.restoreOutageMs > 0, `${what}: the failback is felt`);
    }
    const typical = f.clients!.find((c) => c.name === 'typical')!;
    assert.equal(f.rtoMs, typical.rtoMs, 'the drill figures are the judged profile’s');
    const impatient = f.clients!.find((c) => c.name === 'impatient')!;
    assert.equal(impatient.connectTimeoutMs, 500);
    assert.equal(typical.connectTimeoutMs, 5000);

    const timeline = f.timeline!;
    const at = (mark: string, profile?: string) =>
      timeline.find((m) => m.mark === mark && (profile === undefined || m.profile === profile))?.at;
    const times = timeline.map((m) => m.at);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
      'in time order',
    );
    const chain = [at('fault'), at('detected'), at('recovery-started'), at('promoted'), at('routed')];
    assert.ok(
      chain.every((x) => x !== undefined),
      JSON.stringify(timeline),
    );
    assert.deepEqual(
      chain,
      [...chain].sort((a, b) => a! - b!),
      'fault → detected → recovery → promoted → routed',
    );
    for (const c of f.clients!) {
      assert.ok(at('first-failed-write', c.name)! >= at('fault')!, c.name);
      assert.ok(at('first-ack', c.name)! >= at('promoted')!, `${c.name} writes again after the promotion`);
    }
    assert.ok(at('restore-started')! < at('restore-finished')!);
    assert.ok(timeline.every((m) => TIMELINE_MARKS.includes(m.mark)));

    const events = readJournal(journalPath(stateDir, outcome.runId)).events;
    const finished = events.find((e) => e.type === 'drill-finished');
    assert.ok(finished?.type === 'drill-finished');
    assert.deepEqual(finished.figures.clients, f.clients, 'the journal carries every profile');
    const summary = formatOutcome(outcome);
    for (const name of ['impatient', 'typical', 'multihost'])
      assert.match(summary, new RegExp(`${name}: RTO `));
    assert.match(summary, /restore outage/);

    assert.equal(outcome.restore?.status, 'succeeded');
    const steady = await checkSteadyState(l.env, resolveSecretRef);
    assert.deepEqual(steady.problems, []);
  });
});
