// schemas/*.json are generated from src/schema; this fails when the committed files drift.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { actions } from '../../src/actions/registry.js';
import { reportSchemaJson } from '../../src/report/schema.js';
import { eventsSchemaJson } from '../../src/schema/events.js';
import { documentKinds, schemaFileName, schemaJson, type DocumentKind } from '../../src/runbook/documents.js';

describe('committed JSON schemas', () => {
  for (const kind of Object.keys(documentKinds) as DocumentKind[]) {
    it(`schemas/${schemaFileName(kind)} matches the code (run "npm run schemas" after a schema change)`, () => {
      assert.equal(readFileSync(`schemas/${schemaFileName(kind)}`, 'utf8'), schemaJson(kind));
    });
  }

  it('schemas/report.schema.json matches the report model (run "npm run schemas" after a change)', () => {
    assert.equal(readFileSync('schemas/report.schema.json', 'utf8'), reportSchemaJson());
  });

  it('schemas/events.schema.json matches the run events (run "npm run schemas" after a change)', () => {
    assert.equal(readFileSync('schemas/events.schema.json', 'utf8'), eventsSchemaJson());
  });

  it('the runbook schema has one step branch per action kind, discriminated by kind', () => {
    const schema = JSON.parse(readFileSync('schemas/runbook.schema.json', 'utf8'));
    const branches = schema.properties.steps.items.anyOf as {
      properties: { kind: { const: string }; with: unknown };
    }[];
    assert.deepEqual(
      branches.map((b) => b.properties.kind.const),
      [...actions.keys()],
    );
    for (const b of branches)
      assert.deepEqual(
        b.properties.with,
        JSON.parse(JSON.stringify(actions.get(b.properties.kind.const)!.schema)),
      );
  });

  it('every action kind of DESIGN.md is in the schema', () => {
    const design = [
      'verify',
      'notify',
      'promote',
      'dns',
      'route',
      'validate',
      'sql',
      'ssh',
      'shell',
      'select-replica',
      'fence',
      'wait',
      'approve',
    ];
    for (const kind of design) assert.ok(actions.has(kind), kind);
  });
});
