// Every broken file gets one clear, located message: exact line and column, and the key words.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { checkFile } from '../../src/runbook/check.js';

const dir = 'test/fixtures/invalid';

// file → [line, col, words the first error must contain]
const corpus: Record<string, [number, number, string[]]> = {
  'yaml-syntax.yaml': [8, 1, ['invalid YAML', 'Flow map', '}']],
  'tabs.yaml': [4, 1, ['tabs', 'indentation']],
  'wrong-type.yaml': [7, 22, ['must be a boolean']],
  'unknown-step-kind.yaml': [6, 11, ['"promte"', 'must be one of', 'did you mean "promote"']],
  'unknown-step-key.yaml': [7, 5, ['unknown key "budgett"', 'did you mean "budget"', 'allowed keys']],
  'missing-with.yaml': [5, 5, ['missing required key "with"']],
  'duplicate-ids.yaml': [8, 9, ['duplicate step id "a"']],
  'bad-duration.yaml': [7, 13, ['"5 minutes"', 'duration', '30s']],
  'forward-reference.yaml': [7, 32, ['step "make"', 'has not run yet']],
  'unknown-step-reference.yaml': [11, 26, ['unknown step "maek"', 'did you mean "make"']],
  'malformed-expression.yaml': [8, 36, ['invalid expression', 'after +']],
  'unclosed-expression.yaml': [10, 28, ['unclosed', '}}']],
  'empty.yaml': [1, 1, ['empty']],
  'comments-only.yaml': [1, 1, ['empty']],
  'list-not-map.yaml': [1, 1, ['must be a map', 'found a list']],
  'scalar-document.yaml': [1, 1, ['must be a map', 'found a string']],
  'wrong-api-version.yaml': [1, 13, ['unsupported apiVersion', 'drillbook/v1']],
  'duplicate-key.yaml': [8, 1, ['duplicate key']],
  'unknown-document-kind.yaml': [2, 7, ['unknown document kind "Runbok"', 'did you mean "Runbook"']],
  'missing-steps.yaml': [1, 1, ['missing required key "steps"']],
  'empty-steps.yaml': [4, 8, ['at least 1']],
  'unknown-input.yaml': [9, 29, ['unknown input "reasn"', 'did you mean "reason"']],
  'unknown-context-root.yaml': [8, 18, ['unknown name "envv"', 'did you mean "env"']],
  'bad-name.yaml': [3, 19, ['"PG_Failover"', 'lowercase']],
  'zero-timeout.yaml': [7, 14, ['timeout must be longer than 0']],
  'retry-zero-attempts.yaml': [7, 24, ['attempts must be at least 1']],
  'with-unknown-key.yaml': [10, 7, ['unknown key "expct"', 'did you mean "expect"']],
  'with-bad-enum.yaml': [10, 15, ['"dwn"', '"down"', 'did you mean "down"']],
  'own-output.yaml': [7, 12, ['cannot read its own outputs']],
  'verify-sql-without-query.yaml': [7, 11, ['missing required key "query"']],
  'unknown-output.yaml': [
    10,
    26,
    ['steps.pick.outputs.nod does not exist', 'did you mean "node"', 'a select-replica step'],
  ],
  'function-call.yaml': [8, 20, ['only these functions may be called']],
  'retry-delays.yaml': [7, 49, ['maxDelay', 'shorter than retry.delay']],
  'alias-bomb.yaml': [1, 1, ['alias', 'bomb']],
  'inventory-inline-secret.yaml': [11, 17, ['secret reference', 'env:NAME']],
  'inventory-unknown-primary.yaml': [6, 14, ['unknown node "pg9"', 'did you mean "pg1"']],
  'inventory-bad-label.yaml': [5, 12, ['"stagging"', 'did you mean "staging"']],
  'inventory-bad-host.yaml': [12, 22, ['"127.0.0.1;touch pwned"', 'a host name or an IP address']],
  'inventory-relative-datadir.yaml': [15, 20, ['touch pwned', 'an absolute directory']],
  'drill-unknown-fault.yaml': [7, 16, ['"kill-postgress"', 'did you mean "kill-postgres"']],
  'drill-production.yaml': [5, 14, ['labelled staging', 'production']],
  'drill-missing-runbook.yaml': [4, 10, ['runbook file not found']],
  'drill-fault-input.yaml': [9, 15, ['not fault.when', 'delete-rows records fault.time']],
  'aurora-failover-without-allow-data-loss.yaml': [7, 11, ['missing required key "allowDataLoss"']],
  'inventory-cloud-without-region.yaml': [14, 7, ['missing required key "region"']],
  'drill-client-unknown-key.yaml': [10, 7, ['unknown key "conectTimeout"', 'did you mean "connectTimeout"']],
  'drill-client-zero-timeout.yaml': [9, 63, ['writeTimeout must be longer than 0', '"0s"']],
  'drill-client-negative-timeout.yaml': [10, 23, ['"-5s"', 'duration']],
  'drill-client-duplicate-name.yaml': [11, 15, ['duplicate client profile "typical"', 'probe.clients.0']],
  'drill-objective-unknown-profile.yaml': [
    11,
    42,
    ['objectives.profile names no client profile: "impatent"', 'did you mean "impatient"'],
  ],
};

function firstError(file: string) {
  const result = checkFile(file);
  assert.ok(result.errors.length > 0, `${file} should be invalid`);
  return result.errors[0]!;
}

describe('invalid corpus', () => {
  for (const [name, [line, col, words]] of Object.entries(corpus)) {
    it(name, () => {
      const err = firstError(join(dir, name));
      assert.deepEqual([err.location?.line, err.location?.col], [line, col], err.format());
      for (const w of words) assert.ok(err.message.includes(w), `"${err.message}" should contain "${w}"`);
      assert.ok(!err.message.includes('\n'), 'one line');
      assert.equal(err.location?.file, join(dir, name));
    });
  }

  const tmp = mkdtempSync(join(tmpdir(), 'drillbook-invalid-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('a binary file is refused as not text', () => {
    const file = join(tmp, 'binary.yaml');
    writeFileSync(file, Buffer.from([0x61, 0x3a, 0x20, 0x0a, 0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]));
    const err = firstError(file);
    assert.match(err.format(), /binary\.yaml:2:5: not a text file/);
  });

  it('a 20 MB file is refused before parsing', () => {
    const file = join(tmp, 'huge.yaml');
    writeFileSync(file, `steps:\n${'  - { id: a, kind: wait, with: { duration: 1s } }\n'.repeat(400_000)}`);
    const err = firstError(file);
    assert.match(err.format(), /huge\.yaml:1:1: file is too large/);
  });

  it('the corpus has at least 30 files and each is covered', async () => {
    const { readdirSync } = await import('node:fs');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.length >= 30);
    assert.deepEqual(files.sort(), Object.keys(corpus).sort());
  });
});
