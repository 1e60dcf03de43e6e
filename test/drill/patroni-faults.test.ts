// The Patroni faults refuse what they cannot do before touching anything: a node without a Patroni
// REST URL, a DCS member that is not on this machine, an environment without DCS endpoints. And a
// drill that expects a failover fails when Patroni does not hold the leader it elected.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EnvContext } from '../../src/actions/types.js';
import { etcdMajorityLoss, etcdMemberLoss } from '../../src/drill/faults/etcd-loss.js';
import { freezeNode } from '../../src/drill/faults/freeze-node.js';
import { killNode } from '../../src/drill/faults/kill-node.js';
import type { FaultContext } from '../../src/drill/faults/types.js';
import { UserError } from '../../src/errors.js';
import { formatOutcome } from '../../src/drill/summary.js';
import { judgePatroni } from '../../src/drill/patroni-drill.js';
import type { DrillMeasurement } from '../../src/drill/phases/measure.js';
import type { DrillState } from '../../src/drill/phases/state.js';
import type { PatroniFigures } from '../../src/schema/drill-outcome.js';

const node = (host: string) => ({ host, port: 5432, dataDir: '/nonexistent/pg' });
const env = (ha: EnvContext['ha']): EnvContext =>
  ({
    name: 'staging',
    label: 'staging',
    primary: 'pg1',
    replicas: ['pg2'],
    postgres: { nodes: { pg1: node('127.0.0.1'), pg2: node('127.0.0.2') } },
    ...(ha && { ha }),
  }) as unknown as EnvContext;
const ctx = (e: EnvContext): FaultContext => ({
  env: e,
  node: 'pg1',
  secret: async () => '',
  log: () => undefined,
});

describe('Patroni faults refuse bad input', () => {
  it('kill-node and freeze-node need the node in ha.rest.urls', async () => {
    const e = env({ manager: 'patroni', rest: { urls: { pg2: 'http://127.0.0.2:8008' } } });
    for (const fault of [killNode, freezeNode]) {
      await assert.rejects(fault.inject(ctx(e)), (err: Error) => {
        assert.ok(err instanceof UserError);
        assert.equal(err.message, 'pg1 has no Patroni REST URL in the inventory (ha.rest.urls)');
        return true;
      });
    }
  });

  it('the etcd faults need DCS endpoints, on this machine', { skip: process.getuid?.() !== 0 }, async () => {
    const rest = { urls: { pg1: 'http://127.0.0.1:8008' } };
    await assert.rejects(
      etcdMemberLoss.inject(ctx(env({ manager: 'patroni', rest }))),
      /environment staging names no DCS endpoints \(ha\.dcs\.endpoints\): nothing to kill/,
    );
    const remote = env({ manager: 'patroni', rest, dcs: { type: 'etcd3', endpoints: ['10.0.0.5:2379'] } });
    await assert.rejects(
      etcdMajorityLoss.inject(ctx(remote)),
      /etcd-majority-loss kills local DCS members only; 10\.0\.0\.5:2379 is not a loopback address/,
    );
  });
});

describe("a Patroni drill's closing lines", () => {
  it('say what Patroni did, the leaders, the chain and the /history line', () => {
    const text = formatOutcome({
      runId: 'r1',
      verdict: 'pass',
      exitCode: 0,
      figures: {
        rtoMs: 7800,
        longestGapMs: 7800,
        writesSent: 10,
        writesAcked: 9,
        writesFailed: 1,
        rpoRows: 0,
        lostSeqs: [],
        splitBrainWrites: 0,
        faultAt: 0,
        patroni: {
          leaderBefore: 'pg1',
          leaderAfter: 'pg3',
          failover: true,
          outcome: 'failover',
          history: '[1,67303448,"no recovery target specified","2026-11-29T13:23:40+00:00","pg3"]',
          pinnedWrites: { sent: 5, acked: 3 },
          splitBrainWrites: 0,
          chain: [
            { what: 'fault', ms: 0 },
            { what: 'new leader pg3 elected', ms: 7300 },
            { what: 'clients back', ms: 7800 },
          ],
        },
      },
    });
    assert.match(text, /\n {2}Patroni: failover, leader pg1 → pg3\n/);
    assert.match(
      text,
      /\n {2}chain: fault \+0ms → new leader pg3 elected \+7\.30s → clients back \+7\.80s\n/,
    );
    assert.match(text, /\n {2}Patroni \/history: \[1,67303448,/);
  });
});

describe('a Patroni drill that expects a failover', () => {
  const judgeWith = (leaderMovedAgain?: { name: string; ms: number }) => {
    const s = {
      loaded: { drill: { fault: { kind: 'partition', expect: 'failover' } } },
      fault: { fault: { kind: 'partition', timed: true } },
      w: { emitter: { emit: () => undefined } },
    } as unknown as DrillState;
    const patroni: PatroniFigures = {
      leaderBefore: 'pg1',
      leaderAfter: leaderMovedAgain?.name ?? 'pg3',
      failover: true,
      pinnedWrites: { sent: 0, acked: 0 },
      splitBrainWrites: 0,
      chain: [{ what: 'fault', ms: 0 }],
      ...(leaderMovedAgain && { leaderMovedAgain }),
    };
    const m = { figures: { faultAt: 0, splitBrainWrites: 0 } } as unknown as DrillMeasurement;
    return judgePatroni(s, patroni, m);
  };

  it('passes when the new leader holds through the watch', () => {
    assert.deepEqual(judgeWith(), []);
  });

  it('fails when the leader moves again after the election (the healed node took the key back)', () => {
    assert.deepEqual(judgeWith({ name: 'pg1', ms: 26100 }), [
      'Patroni did not hold its new leader: pg1 took the leader key 26100 ms after the fault (clients saw a second failover)',
    ]);
  });
});
