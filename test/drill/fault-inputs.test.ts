// Drill inputs over env are rendered before the run; those over the fault's facts once it struck.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EnvContext } from '../../src/actions/types.js';
import { inputsAfterFault, inputsBeforeFault } from '../../src/drill/fault-inputs.js';
import type { Runbook } from '../../src/runbook/schema.js';

const runbook = {
  inputs: {
    store: { type: 'string' },
    before: { type: 'string', required: true },
    deleted: { type: 'number', default: 0 },
    note: { type: 'string', default: 'x' },
  },
} as unknown as Runbook;
const env = { name: 'lab', backups: { store: '/var/tmp/lab/backups' } } as unknown as EnvContext;
const given = {
  store: '${{ env.backups.store }}',
  before: '${{ fault.time }}',
  deleted: '${{ fault.rows }}',
  note: 'deleted at ${{ fault.time }} on ${{ env.name }}',
};

describe('drill inputs from the fault', () => {
  it('before the fault: env rendered, fault inputs stand in with their type', () => {
    assert.deepEqual(inputsBeforeFault(runbook, given, env), {
      store: '/var/tmp/lab/backups',
      before: '${{ fault.time }}',
      deleted: 0,
      note: 'deleted at ${{ fault.time }} on ${{ env.name }}',
    });
  });

  it('after the fault: every input rendered and typed', () => {
    const facts = { time: '2026-11-27 18:00:00.123456+00', rows: 42 };
    assert.deepEqual(inputsAfterFault(runbook, given, env, facts), {
      store: '/var/tmp/lab/backups',
      before: '2026-11-27 18:00:00.123456+00',
      deleted: 42,
      note: 'deleted at 2026-11-27 18:00:00.123456+00 on lab',
    });
  });

  it('nothing to do when no input uses the fault', () => {
    assert.equal(inputsAfterFault(runbook, { store: '/s', before: 'now' }, env, { time: 't' }), undefined);
  });
});
