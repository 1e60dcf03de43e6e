// Every shipped YAML file validates: runbooks, drills and examples.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkFile, loadInventory } from '../../src/runbook/check.js';

const shipped = ['runbooks', 'drills', 'examples']
  .filter((dir) => existsSync(dir))
  .flatMap((dir) =>
    readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => join(dir, f)),
  );

describe('shipped files', () => {
  it('there are runbooks and examples to check', () => {
    assert.ok(shipped.includes('runbooks/pg-failover.yaml'));
    assert.ok(shipped.includes('examples/inventory.yaml'));
  });

  for (const file of shipped) {
    it(`${file} is valid`, () => {
      const { errors } = checkFile(file);
      assert.deepEqual(
        errors.map((e) => e.format()),
        [],
      );
    });
  }

  it('runbooks name only targets that exist in the example staging environment', () => {
    const inventory = loadInventory('examples/inventory.yaml');
    for (const file of shipped.filter((f) => f.startsWith('runbooks/'))) {
      const { errors } = checkFile(file, { inventory, envName: 'staging' });
      assert.deepEqual(
        errors.map((e) => e.format()),
        [],
        file,
      );
    }
  });
});
