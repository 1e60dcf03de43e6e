// Names a drill defines in two places must not drift apart.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { faults } from '../../src/drill/faults/index.js';
import { Fault } from '../../src/schema/drill.js';

describe('drill vocabulary', () => {
  it('the fault kinds the drill schema accepts are exactly the kinds drillbook can inject', () => {
    const schemaKinds = (Fault.properties.kind as unknown as { enum: string[] }).enum;
    assert.deepEqual([...schemaKinds].sort(), [...faults.keys()].sort());
  });
});
