// Action contracts: output schemas enforced under test, examples that validate, the reference
// printed by `drillbook actions` and committed in the README from the same definitions.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { stringify } from 'yaml';
import { checkOutputs } from '../../src/actions/contract.js';
import { readmeWithActions } from '../../src/actions/readme.js';
import { actions } from '../../src/actions/registry.js';
import { defineAction } from '../../src/actions/types.js';
import { main } from '../../src/cli/main.js';
import { InternalError } from '../../src/errors.js';
import { checkFile } from '../../src/runbook/check.js';
import { Strict } from '../../src/schema/common.js';
import { actionContext } from '../helpers/action-context.js';

const tmp = mkdtempSync(join(tmpdir(), 'drillbook-contracts-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function cli(...args: string[]) {
  const out: string[] = [];
  const code = await main(['node', 'drillbook', ...args], {
    out: (t) => out.push(t),
    err: (t) => out.push(t),
  });
  return { code, text: out.join('\n') };
}

describe('action contracts', () => {
  it('under node:test, an action whose result breaks its output schema fails with InternalError', async () => {
    const broken = defineAction({
      kind: 'broken',
      summary: 'returns a string where its schema says integer',
      schema: Strict({}),
      outputs: Strict({ count: Type.Integer() }),
      example: { id: 'b', with: {} },
      run: async () => ({ count: 'three' }) as never,
    });
    await assert.rejects(
      broken.run!(actionContext({} as never), {}),
      (e: unknown) =>
        e instanceof InternalError && /broken broke its output contract at \/count/.test(e.message),
    );
  });

  it('checkOutputs refuses unknown and missing fields', () => {
    const outputs = actions.get('shell')!.outputs;
    assert.doesNotThrow(() => checkOutputs('shell', outputs, { exitCode: 0, stdout: '', stderr: '' }));
    assert.throws(
      () => checkOutputs('shell', outputs, { exitCode: 0, stdout: '', stderr: '', extra: 1 }),
      InternalError,
    );
    assert.throws(() => checkOutputs('shell', outputs, { exitCode: 0, stdout: '' }), InternalError);
  });

  it("every kind's example is a valid step, its references included", () => {
    const first = ['select-replica', 'promote'];
    const kinds = [...first, ...[...actions.keys()].filter((k) => !first.includes(k))];
    const file = join(tmp, 'examples.yaml');
    writeFileSync(
      file,
      stringify({
        apiVersion: 'drillbook/v1',
        kind: 'Runbook',
        metadata: { name: 'examples' },
        inputs: { reason: { type: 'string', default: 'drill' }, before: { type: 'string', default: 'now' } },
        steps: kinds.map((k) => ({
          id: actions.get(k)!.example.id,
          kind: k,
          with: actions.get(k)!.example.with,
        })),
      }),
    );
    const result = checkFile(file);
    assert.deepEqual(
      result.errors.map((e) => e.format()),
      [],
    );
  });

  it('drillbook actions KIND prints inputs, outputs and the example; --json the same data', async () => {
    const text = await cli('actions', 'select-replica');
    assert.equal(text.code, 0);
    assert.match(text.text, /inputs \(with:\)\n {2}candidates: /);
    assert.match(text.text, /outputs \(steps.<id>.outputs\)\n {2}node: string/);
    assert.match(text.text, /example\n {2}- id: pick/);
    const json = JSON.parse((await cli('actions', 'verify', '--json')).text);
    assert.deepEqual(
      json.inputs.map((g: { when: string }) => g.when),
      [
        'check: postgres',
        'check: sql',
        'check: tcp',
        'check: http',
        'check: backup-age',
        'check: backup',
        'check: archiving',
        'check: router-config',
        'check: patroni',
      ],
    );
    const unknown = await cli('actions', 'verfy');
    assert.equal(unknown.code, 2);
    assert.match(unknown.text, /did you mean "verify"/);
  });

  it('the README action reference matches the definitions (run "npm run docs" after a change)', () => {
    const readme = readFileSync('README.md', 'utf8');
    assert.equal(readme, readmeWithActions(readme));
  });
});
