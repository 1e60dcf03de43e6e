// validate: expressions in SQL text are bound values, so the SQL itself may not come from one, and
// one inside quotes (which would be the literal text "$n") is refused, each with its location.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { checkFile } from '../../src/runbook/check.js';

const dir = mkdtempSync(join(tmpdir(), 'drillbook-sql-text-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function errorsOf(body: string): string[] {
  const file = join(dir, `r${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    `apiVersion: drillbook/v1\nkind: Runbook\nmetadata: { name: t }\ninputs: { q: { type: string } }\n${body}`,
  );
  return checkFile(file).errors.map((e) => e.format().slice(file.length));
}

describe('SQL text in validate', () => {
  it('a query that is one expression is refused where it stands, in every SQL field', () => {
    const errors = errorsOf(`steps:
  - { id: a, kind: sql, with: { target: primary, query: "\${{ inputs.q }}" } }
  - { id: b, kind: verify, with: { check: sql, target: primary, query: "\${{ inputs.q }}" } }
  - id: c
    kind: pitr
    with:
      storage: { type: local, path: /b }
      archive: /a
      target: { name: x }
      expect: [{ query: "\${{ inputs.q }}", equals: 1 }]
      copyBack: { table: t, where: "\${{ inputs.q }}" }
`);
    assert.deepEqual(
      errors.map((e) => e.replace(/: SQL text cannot come from an expression.*/, '')),
      [':6:58', ':7:73', ':14:26', ':15:37'],
    );
  });

  it("an expression inside quotes is refused (it would be the text '$1')", () => {
    const errors = errorsOf(`steps:
  - { id: v, kind: verify, with: { check: sql, target: primary, query: "select count(*) from pg_class where relname = '\${{ inputs.q }}'" } }
`);
    assert.equal(errors.length, 1);
    assert.match(
      errors[0]!,
      /^:6:120: an expression in SQL is a bound value \(\$n\), not text: remove the quotes/,
    );
  });

  it('expressions as values in SQL, and expressions in other fields, are fine', () => {
    assert.deepEqual(
      errorsOf(`steps:
  - { id: v, kind: verify, with: { check: sql, target: primary, query: "select \${{ inputs.q }}::text = 'a'", equals: true } }
  - { id: n, kind: notify, with: { text: "'\${{ inputs.q }}'" } }
`),
      [],
    );
  });
});
