// `validate` and `plan` stay light: the built CLI uses the prebuilt validators (no Ajv compile at
// start-up) and never loads the heavy clients (pg, ssh2, Slack, AWS SDK) that only runs need.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

const script = `
import { createRequire } from 'node:module';
const { main } = await import(process.cwd() + '/dist/bundle/drillbook.js');
const io = { out: () => {}, err: (t) => process.stderr.write(t + '\\n') };
const codes = [
  await main(['node', 'drillbook', 'validate', 'runbooks/pg-failover.yaml', 'examples/inventory.yaml'], io),
  await main(['node', 'drillbook', 'plan', 'runbooks/pg-failover.yaml', '-i', 'examples/inventory.yaml', '-e', 'staging'], io),
];
const loaded = Object.keys(createRequire(import.meta.url).cache);
console.log(JSON.stringify({ codes, loaded }));
`;

describe('CLI start-up', () => {
  it('validate and plan load neither Ajv’s compiler nor pg, ssh2, Slack or the AWS SDK', () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const { codes, loaded } = JSON.parse(r.stdout) as { codes: number[]; loaded: string[] };
    assert.deepEqual(codes, [0, 0]);
    const heavy = loaded.filter((f) =>
      /node_modules\/(pg|ssh2|node-ssh|@slack|@aws-sdk|listr2|zx)\/|ajv\/dist\/compile\//.test(f),
    );
    assert.deepEqual(heavy, []);
    assert.ok(
      loaded.some((f) => f.endsWith('dist/validators/runbook.cjs')),
      'the prebuilt runbook validator is used',
    );
  });
});
