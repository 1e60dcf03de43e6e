// What the steady-state check makes of pg_stat_replication: which problems pass by themselves
// (a replica catching up after the restore re-pointed it, lag after a WAL switch) and are waited
// for, and which are reported at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { replicaProblems } from '../../src/drill/steady-state.js';

const MB = 1024 * 1024;

test('streaming replicas with little lag: no problem', () => {
  const r = replicaProblems(
    [
      { name: 'pg2', state: 'streaming', lag: '0' },
      { name: 'pg3', state: 'streaming', lag: '120' },
    ],
    ['pg2', 'pg3'],
    'pg1',
  );
  assert.deepEqual(r, { problems: [], lagBytes: { pg2: 0, pg3: 120 }, settling: 0 });
});

test('a replica catching up or lagging is a problem that settles; one missing or stopping is not', () => {
  const r = replicaProblems(
    [
      { name: 'pg2', state: 'catchup', lag: null },
      { name: 'pg3', state: 'streaming', lag: String(2 * MB) },
      { name: 'pg5', state: 'stopping', lag: null },
    ],
    ['pg2', 'pg3', 'pg4', 'pg5'],
    'pg1',
  );
  assert.deepEqual(r.problems, [
    'replica pg2 is catchup, not streaming',
    `replica pg3 lags ${2 * MB} bytes (more than ${MB})`,
    'replica pg4 is not connected to pg1',
    'replica pg5 is stopping, not streaming',
  ]);
  assert.equal(r.settling, 2, 'catchup and lag pass by themselves; a missing or stopping replica does not');
});
