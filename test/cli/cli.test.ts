// The CLI as a user meets it: exit codes, one-line errors, --json, plan output.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cli } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'drillbook-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('drillbook CLI', () => {
  it('validate: shipped files are valid, exit 0', async () => {
    const r = await cli('validate', 'runbooks/pg-failover.yaml', 'examples/inventory.yaml');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /2 valid, 0 invalid/);
  });

  it('validate: a broken file gives file:line:col, exit 2, no stack trace', async () => {
    const r = await cli('validate', 'test/fixtures/invalid/unknown-step-kind.yaml');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^test\/fixtures\/invalid\/unknown-step-kind\.yaml:6:11: "promte" is not allowed/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  it('validate --json reports every file with located errors', async () => {
    const r = await cli(
      'validate',
      '--json',
      'runbooks/pg-failover.yaml',
      'test/fixtures/invalid/bad-duration.yaml',
    );
    assert.equal(r.code, 2);
    const { formatVersion, files: results } = JSON.parse(r.stdout);
    assert.equal(formatVersion, 1);
    assert.equal(results[0].valid, true);
    assert.deepEqual(results[1].errors[0], {
      line: 7,
      col: 13,
      message: '"5 minutes" is not valid: expected a duration such as 250ms, 30s, 5m or 1h',
    });
  });

  it('validate: warnings pass, --strict makes them fail', async () => {
    const file = join(tmp, 'over-budget.yaml');
    writeFileSync(
      file,
      'apiVersion: drillbook/v1\nkind: Runbook\nmetadata: { name: o }\nobjectives: { rto: 1s }\nsteps:\n  - { id: a, kind: wait, budget: 2s, with: { duration: 1s } }\n',
    );
    assert.equal((await cli('validate', file)).code, 0);
    const strict = await cli('validate', '--strict', file);
    assert.equal(strict.code, 2);
    assert.match(
      strict.stderr,
      /over-budget\.yaml:4:20: step budgets add up to 2\.00s, above objectives\.rto 1\.00s \(warning\)/,
    );
  });

  it('validate --inventory --env checks the targets a runbook names', async () => {
    const r = await cli(
      'validate',
      '-i',
      'examples/inventory.yaml',
      '-e',
      'staging',
      'runbooks/pg-failover.yaml',
    );
    assert.equal(r.code, 0, r.stderr);
    const bad = await cli(
      'validate',
      '-i',
      'examples/inventory.yaml',
      '-e',
      'stagin',
      'runbooks/pg-failover.yaml',
    );
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /environment "stagin" is not in examples\/inventory\.yaml \(did you mean "staging"\?\)/,
    );
  });

  it('plan: every step with kind, rendered inputs, budget, timeout, retries and the total against the RTO', async () => {
    const r = await cli(
      'plan',
      'runbooks/pg-failover.yaml',
      '-i',
      'examples/inventory.yaml',
      '-e',
      'staging',
      '--set',
      'reason=drill',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Plan: pg-failover on environment staging \(staging\)/);
    assert.match(r.stdout, / 1\. verify-primary-down \[verify\]/);
    assert.match(r.stdout, /budget 2m · timeout 10s · retry 3 attempts, delay 500ms/);
    assert.match(r.stdout, /text: Failing over staging: drill/);
    assert.match(r.stdout, /candidates: \["pg2","pg3"\]/);
    assert.match(r.stdout, /target: ⟨steps\.pick\.outputs\.node⟩/);
    assert.match(r.stdout, /Budget total: 15m of RTO 15m \(100%\)/);
  });

  it('plan: secrets are shown as ***', async () => {
    const file = join(tmp, 'secret.yaml');
    writeFileSync(
      file,
      'apiVersion: drillbook/v1\nkind: Runbook\nmetadata: { name: s }\nsteps:\n  - { id: a, kind: shell, with: { command: "curl -H token:${{ secrets.api_token }} x" } }\n',
    );
    process.env.DRILLBOOK_SECRET_API_TOKEN = 'hunter2';
    const r = await cli('plan', file, '-i', 'examples/inventory.yaml', '-e', 'staging');
    delete process.env.DRILLBOOK_SECRET_API_TOKEN;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /command: curl -H token:\*\*\* x/);
    assert.doesNotMatch(r.stdout, /hunter2/);
  });

  it('plan: bad input is exit 2 with one line (unknown input, missing inventory)', async () => {
    const r = await cli(
      'plan',
      'runbooks/pg-failover.yaml',
      '-i',
      'examples/inventory.yaml',
      '-e',
      'staging',
      '--set',
      'reasn=x',
    );
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'error: unknown input "reasn" (did you mean "reason"?); inputs: reason, fence');
    const missing = await cli(
      'plan',
      'runbooks/pg-failover.yaml',
      '-i',
      join(tmp, 'none.yaml'),
      '-e',
      'staging',
    );
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /inventory not found/);
  });

  it('unknown commands and flags are exit 2', async () => {
    assert.equal((await cli('valdate', 'x')).code, 2);
    assert.equal((await cli('validate', '--bogus', 'x')).code, 2);
  });

  it('the built CLI lists every command of DESIGN.md in --help', () => {
    const r = spawnSync(process.execPath, ['bin/drillbook.js', '--help'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    for (const command of ['validate', 'plan', 'run', 'resume', 'drill', 'report', 'lab']) {
      assert.match(r.stdout, new RegExp(`^  ${command}\\b`, 'm'), command);
    }
  });
});
