// The Patroni drills (drills/patroni/) on a Patroni lab (--sync, ttl 8 / loop_wait 1 /
// retry_timeout 3) on private slot 18: a node crash fails over with RPO 0 and reports the leaders;
// a partitioned leader is replaced and takes no write (and a new leader Patroni does not hold after
// the heal fails the drill); a PostgreSQL-only kill is recovered in
// place; one etcd member lost leaves the leader alone. Each drill restores the lab (lab up
// repairs, Patroni switches back to pg1) for the next one.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repairLabOf } from '../../src/cli/lab-repair.js';
import { runDrill } from '../../src/drill/run-drill.js';
import type { DrillOutcome } from '../../src/drill/phases/state.js';
import { readJournal } from '../../src/engine/journal.js';
import { labDown, labUp } from '../../src/lab/index.js';
import { journalPath } from '../../src/system/run-paths.js';
import { assertJournalMatchesSchema } from '../helpers/events-schema.js';
import { patroniLabDir, PATRONI_LAB_OPTIONS } from '../helpers/patroni-lab.js';

const labDir = patroniLabDir();
const { parent, dir } = labDir;
let stateDir = join(parent, 'state');
const quiet = { out: () => undefined, err: () => undefined };

async function drill(name: string): Promise<DrillOutcome & { log: string[] }> {
  const outcome = await runDrill(
    {
      drillFile: `drills/patroni/${name}.yaml`,
      inventoryFile: join(dir, 'inventory.yaml'),
      stateDir,
      repair: repairLabOf,
    },
    quiet,
  );
  assertJournalMatchesSchema(journalPath(stateDir, outcome.runId));
  const log = readJournal(journalPath(stateDir, outcome.runId)).events.flatMap((e) =>
    e.type === 'log' ? [e.message] : e.type === 'drill-finished' ? e.reasons : [],
  );
  return { ...outcome, log };
}

/** What each Patroni logged about the leader key and its role: the evidence of a leader not held. */
function leadershipLines(): string {
  return ['pg1', 'pg2', 'pg3']
    .map((n) => {
      const log = join(dir, 'logs', `patroni-${n}.log`);
      const lines = existsSync(log) ? readFileSync(log, 'utf8').split('\n') : [];
      const key = lines.filter((l) => /Lock owner|promot|[Dd]emot|acquir|leader lock|session lock/.test(l));
      // Each loop logs its lock owner: only a change of message is kept.
      const message = (l: string) => l.replace(/^\S+ \S+ /, '');
      const changes = key.filter((l, i) => i === 0 || message(l) !== message(key[i - 1]!));
      return `${n}:\n${changes.slice(-15).join('\n')}`;
    })
    .join('\n');
}

describe('Patroni drills on the lab (--sync, ttl 8)', () => {
  before(() => labUp({ ...PATRONI_LAB_OPTIONS, dir }));
  after(() => labDir.remove());

  test('node crash: Patroni fails over, RPO 0, leader before and after reported, restored to pg1', async (t) => {
    const o = await drill('node-crash');
    const p = o.figures?.patroni;
    t.diagnostic(o.log.filter((l) => l.startsWith('patroni:')).join('\n'));
    assert.equal(o.verdict, 'pass', o.reasons?.join('\n'));
    assert.equal(o.figures?.rpoRows, 0);
    assert.equal(o.figures?.splitBrainWrites, 0);
    assert.equal(p?.leaderBefore, 'pg1');
    assert.notEqual(p?.leaderAfter, 'pg1');
    assert.equal(p?.outcome, 'failover');
    assert.ok((p?.timelineAfter ?? 0) > (p?.timelineBefore ?? 0));
    assert.match(p?.history ?? '', /^\[\d+,/, "Patroni's /history line");
    // The whole chain, in the order it happened, from the fault to clients writing again.
    const chain = p?.chain ?? [];
    const whats = chain.map((c) => c.what).join(' | ');
    for (const link of [
      /^fault$/,
      /^new leader pg\d elected$/,
      /^Patroni reports pg\d on timeline \d+$/,
      /^route: HAProxy sends writes to pg\d$/,
      /^clients back$/,
    ])
      assert.ok(
        chain.some((c) => link.test(c.what)),
        `${link} in ${whats}`,
      );
    assert.equal(chain[0]?.what, 'fault');
    assert.ok(
      chain.every((c, k) => k === 0 || c.ms >= chain[k - 1]!.ms),
      JSON.stringify(chain),
    );
    const at = (re: RegExp) => chain.find((c) => re.test(c.what))!.ms;
    assert.ok(at(/elected/) <= at(/^route/) && at(/^route/) <= at(/clients back/) + 1, whats);
    assert.equal(o.restore?.status, 'succeeded');
  });

  test('leader partition: the cut-off leader demotes itself, another is elected, no split-brain write; a leader not held is reported', async (t) => {
    // Fails without the partition's cgroup rule: Patroni's connections to the other etcd members
    // leave from 127.0.0.1, so the cut-off leader keeps its key and no new leader is elected.
    const o = await drill('partition');
    const p = o.figures?.patroni;
    t.diagnostic(o.log.filter((l) => l.startsWith('patroni:') || l.startsWith('partitioned')).join('\n'));
    assert.ok(
      o.log.some((l) => /^partitioned pg1 .* process\(es\)/.test(l)),
      o.log.join('\n'),
    );
    assert.equal(p?.leaderBefore, 'pg1');
    assert.equal(p?.failover, true, o.reasons?.join('\n'));
    assert.equal(p?.splitBrainWrites, 0);
    // The chain is on the drill's timeline: the key expires (a cut leader renews nothing), then another leads.
    const marks = (o.figures?.timeline ?? []).map((m) => m.mark);
    assert.ok(
      marks.includes('leader-lost') && marks.indexOf('leader-lost') < marks.indexOf('leader-elected'),
      marks.join(' '),
    );
    if (!p.leaderMovedAgain) {
      // Patroni held its new leader through one ttl after the heal: the drill passes, the restore hands pg1 back.
      assert.equal(o.verdict, 'pass', o.reasons?.join('\n'));
      assert.notEqual(p.leaderAfter, 'pg1');
      assert.equal(o.figures?.rpoRows, 0);
      assert.equal(o.restore?.status, 'succeeded');
      return;
    }
    // Debian's Patroni 3.0.2 sometimes loses its new leader when the partition heals: the healed
    // node reads its stale etcd member, believes it still holds the key and writes the key without
    // a condition (fixed upstream in Patroni 3.0.3, patroni#2689), or the new leader reads the stale
    // member and demotes itself (patroni#3318). Clients lose the new leader's writes. The drill must
    // say so and fail; the lab is left on diverged timelines, so it is built again for the next drill.
    t.diagnostic(
      `Patroni did not hold its new leader (${p.leaderMovedAgain.name} at +${p.leaderMovedAgain.ms} ms): the lab is rebuilt`,
    );
    t.diagnostic(leadershipLines());
    assert.equal(o.verdict, 'fail');
    assert.ok(
      o.reasons?.some((r) => r.startsWith('Patroni did not hold its new leader: ')),
      o.reasons?.join('\n'),
    );
    await labDown(dir);
    await labUp({ ...PATRONI_LAB_OPTIONS, dir });
    // The failed restore marked the environment degraded in the old state directory.
    stateDir = join(parent, 'state-rebuilt');
  });

  test('PostgreSQL-only kill: Patroni restarts it in place, reported as recovered in place, no failover', async (t) => {
    const o = await drill('postgres-kill');
    const p = o.figures?.patroni;
    t.diagnostic(o.log.filter((l) => l.startsWith('patroni:')).join('\n'));
    assert.equal(o.verdict, 'pass', o.reasons?.join('\n'));
    assert.equal(p?.outcome, 'recovered in place, no failover');
    assert.equal(p?.leaderBefore, 'pg1');
    assert.equal(p?.leaderAfter, 'pg1');
    assert.ok(o.figures?.rtoMs !== undefined && o.figures.rtoMs > 0);
    assert.ok(o.log.some((l) => l.startsWith('patroni: recovered in place, no failover')));
  });

  test('one etcd member lost: no failover, the drill passes', async (t) => {
    const o = await drill('etcd-member-loss');
    const p = o.figures?.patroni;
    t.diagnostic(o.log.filter((l) => l.startsWith('patroni:')).join('\n'));
    assert.equal(o.verdict, 'pass', o.reasons?.join('\n'));
    assert.equal(p?.failover, false);
    assert.equal(p?.leaderAfter, 'pg1');
    assert.equal(o.restore?.status ?? 'skipped', o.restore ? 'succeeded' : 'skipped');
  });
});
