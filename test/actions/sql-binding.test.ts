// Expressions in SQL text against a real server: the injection of the hardening issue
// (`--set "name=x'; CREATE TABLE pwned(); SELECT 1 --"`) is a value, never SQL, on every path:
// the sql action, a verify sql check here and over SSH (psql), and copyBack.where.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import '../../src/actions/registry.js';
import { copyBack } from '../../src/backup/copy-back.js';
import { connectPostgres, nodeEndpoint } from '../../src/connectors/postgres.js';
import { resolveSecretRef } from '../../src/connectors/secrets.js';
import { runCommand } from '../../src/compose/commands.js';
import { UserError } from '../../src/errors.js';
import { privateLab, type PrivateLab } from '../helpers/private-lab.js';
import { sql } from '../backup/fixture.js';

const EVIL = "x'; CREATE TABLE pwned(); SELECT 1 --";
const dir = mkdtempSync(join(tmpdir(), 'drillbook-sql-binding-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(lab: PrivateLab, name: string, steps: string) {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `apiVersion: drillbook/v1\nkind: Runbook\nmetadata: { name: ${name} }\ninputs: { name: { type: string } }\nsteps:\n${steps}`,
  );
  const err: string[] = [];
  const code = await runCommand(
    {
      runbookFile: file,
      envName: 'lab',
      inventoryFile: lab.inventoryPath,
      set: [`name=${EVIL}`],
      json: true,
      yes: true,
      stateDir: join(dir, 'state'),
    },
    { out: () => undefined, err: (t) => err.push(t) },
  );
  return { code, stderr: err.join('') };
}

const pwned = async (lab: PrivateLab) =>
  (await sql<{ t: string | null }>(lab, "SELECT to_regclass('pwned')::text AS t"))[0]!.t;

describe('expressions in SQL against the lab', () => {
  const lab = privateLab(24);

  test('sql and verify (here and over SSH) bind the value: it comes back whole, nothing else runs', async (t) => {
    const l = lab(t);
    if (!l) return;
    const r = await run(
      l,
      'bound',
      `  - id: check
    kind: verify
    with: { check: sql, target: primary, from: [local, ssh:pg2], query: "SELECT \${{ inputs.name }}::text", equals: "\${{ inputs.name }}" }
  - { id: q, kind: sql, with: { target: primary, query: "SELECT \${{ inputs.name }}::text AS v" } }
`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await pwned(l), null);
  });

  test('the quoted form of the repro is refused before anything runs (bad input, located)', async (t) => {
    const l = lab(t);
    if (!l) return;
    await assert.rejects(
      run(
        l,
        'quoted',
        `  - id: check
    kind: verify
    with: { check: sql, target: primary, query: "SELECT count(*) FROM pg_class WHERE relname = '\${{ inputs.name }}'" }
`,
      ),
      (err: unknown) =>
        err instanceof UserError &&
        /quoted\.yaml:8:\d+: an expression in SQL is a bound value/.test(err.format()),
    );
    assert.equal(await pwned(l), null);
  });

  test('copyBack.where takes bound parameters', async (t) => {
    const l = lab(t);
    if (!l) return;
    await sql(l, 'CREATE TABLE IF NOT EXISTS cb (id int PRIMARY KEY)');
    await sql(l, 'INSERT INTO cb SELECT generate_series(1, 10) ON CONFLICT DO NOTHING');
    const connect = () =>
      connectPostgres(nodeEndpoint(l.env, 'primary'), {
        secret: resolveSecretRef,
        signal: AbortSignal.timeout(20_000),
      });
    const [from, into] = [await connect(), await connect()];
    try {
      const r = await copyBack(from, into, { table: 'cb', where: 'id > $1', params: [7] }, 'primary');
      assert.deepEqual([r.read, r.inserted], [3, 0]);
    } finally {
      await from.end();
      await into.end();
    }
  });
});
