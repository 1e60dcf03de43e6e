// The drill's figures against an independent client (psycopg2 over libpq, not node-pg): during a
// primary-kill drill on a private lab with synchronous replication, the independent client writes
// through the router with the settings of the drill's `independent-twin` profile; its longest gap
// in the failover window must agree with the twin's longestGapMs, and its longest gap during the
// failback with the twin's restoreOutageMs, within 150 ms (test/helpers/cross-check.ts says how
// the windows are split).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promotedNode } from '../../src/drill/measure.js';
import { formatOutcome } from '../../src/drill/summary.js';
import { readJournal } from '../../src/engine/journal.js';
import { journalPath } from '../../src/system/run-paths.js';
import {
  AGREEMENT_MS,
  crossCheckDrill,
  TWIN,
  writeCrossCheckDrill,
  type CrossCheck,
} from '../helpers/cross-check.js';
import { privateLab } from '../helpers/private-lab.js';

const stateDir = mkdtempSync(join(tmpdir(), 'drillbook-cross-check-'));
after(() => rmSync(stateDir, { recursive: true, force: true }));

describe('the drill against an independent client (primary-kill, --sync)', () => {
  const lab = privateLab(24, { sync: true });
  let drilled: CrossCheck | undefined;

  it('the independent client’s longest gaps agree with the twin profile’s within 150 ms, failover and failback', async (t) => {
    const l = lab(t);
    if (!l) return;
    const x = (drilled = await crossCheckDrill(l, stateDir, writeCrossCheckDrill(stateDir)));
    t.diagnostic(formatOutcome(x.outcome));
    const seen = JSON.stringify({
      twin: {
        longestGapMs: x.twin.longestGapMs,
        rtoMs: x.twin.rtoMs,
        restoreOutageMs: x.twin.restoreOutageMs,
      },
      independent: { failoverGapMs: x.failoverGapMs, restoreGapMs: x.restoreGapMs, gaps: x.independent.gaps },
    });
    t.diagnostic(seen);
    assert.equal(x.outcome.verdict, 'pass', `${x.outcome.reasons?.join('\n')}\n${formatOutcome(x.outcome)}`);
    // Both saw the kill: a gap of several intervals at least, on each side.
    assert.ok(x.twin.writesFailed > 0 && x.independent.failed > 0, seen);
    assert.ok(x.failoverGapMs > 200 && x.twin.longestGapMs > 200, seen);
    assert.ok(
      Math.abs(x.failoverGapMs - x.twin.longestGapMs) <= AGREEMENT_MS,
      `failover: ${TWIN} ${x.twin.longestGapMs.toFixed(0)} ms, independent ${x.failoverGapMs} ms: ${seen}`,
    );
    assert.ok(x.twin.restoreOutageMs !== undefined && x.restoreGapMs !== undefined, seen);
    assert.ok(
      Math.abs(x.restoreGapMs - x.twin.restoreOutageMs) <= AGREEMENT_MS,
      `failback: ${TWIN} ${x.twin.restoreOutageMs.toFixed(0)} ms, independent ${x.restoreGapMs} ms: ${seen}`,
    );
  });

  it('a planned switchover (no fault): the twin’s RTO, its longest outage, agrees with the independent client’s longest gap', async (t) => {
    const l = lab(t);
    if (!l) return;
    const x = await crossCheckDrill(l, stateDir, writeCrossCheckDrill(stateDir, 'drills/switchover.yaml'));
    const seen = JSON.stringify({
      twin: { rtoMs: x.twin.rtoMs, longestGapMs: x.twin.longestGapMs },
      independent: { failoverGapMs: x.failoverGapMs, gaps: x.independent.gaps },
    });
    t.diagnostic(seen);
    assert.equal(x.outcome.verdict, 'pass', `${x.outcome.reasons?.join('\n')}\n${formatOutcome(x.outcome)}`);
    assert.equal(x.outcome.figures?.rtoBasis, 'outage', seen);
    // The switch costs clients more than a few probe intervals, and the RTO says so.
    assert.ok(x.twin.rtoMs !== undefined && x.twin.rtoMs > 200, seen);
    assert.ok(
      Math.abs(x.failoverGapMs - x.twin.rtoMs) <= AGREEMENT_MS,
      `switchover: ${TWIN} RTO ${x.twin.rtoMs.toFixed(0)} ms, independent longest gap ${x.failoverGapMs} ms: ${seen}`,
    );
  });

  it('the failback re-points the running replica before the stopped former primary (a shorter outage)', (t) => {
    if (!lab(t)) return;
    assert.ok(drilled, 'the drill above ran');
    const events = (runId: string) => readJournal(journalPath(stateDir, runId)).events;
    const formerPrimary = promotedNode(events(drilled.outcome.runId));
    const follow = events(drilled.outcome.restore!.runId!).find(
      (e) => e.type === 'step-finished' && e.stepId === 'follow',
    );
    assert.ok(follow?.type === 'step-finished' && formerPrimary, JSON.stringify(follow));
    const repointed = follow.outputs.repointed as string[];
    assert.equal(repointed.length, 2, JSON.stringify(follow.outputs));
    assert.equal(
      repointed.at(-1),
      formerPrimary,
      `the fenced ${formerPrimary} last: ${JSON.stringify(follow.outputs)}`,
    );
  });
});
