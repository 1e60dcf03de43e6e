// Split brain, detected and reconciled. First diverge on two real primaries: a private lab whose
// replica pg2 is promoted while pg1 keeps accepting writes, with crafted rows on each side. The report
// must be exact, and only --apply --policy lww (on staging) may change anything: the new primary's
// rows before and after. Then the shipped split-brain drill on a fresh lab of the same slot (the
// suites run one after the other).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { pollUntil } from '../../src/connectors/poll.js';
import { connectPostgres, nodeEndpoint } from '../../src/connectors/postgres.js';
import { resolveSecretRef } from '../../src/connectors/secrets.js';
import type { Inventory } from '../../src/schema/inventory.js';
import { cli } from '../helpers/cli.js';
import { readJournal } from '../../src/engine/journal.js';
import { runDrill } from '../../src/drill/run-drill.js';
import { checkSteadyState } from '../../src/drill/steady-state.js';
import { journalPath } from '../../src/system/run-paths.js';
import { privateLab, type PrivateLab } from '../helpers/private-lab.js';

const dir = mkdtempSync(join(tmpdir(), 'drillbook-diverge-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function on<T = Record<string, unknown>>(lab: PrivateLab, node: string, text: string): Promise<T[]> {
  const client = await connectPostgres(nodeEndpoint(lab.environment, node), { secret: resolveSecretRef });
  try {
    await client.query("SET TimeZone = 'UTC'");
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Every row of accounts on a node, as text, in key order. */
const accounts = (lab: PrivateLab, node: string) =>
  on<{ r: string }>(lab, node, 'SELECT (a.*)::text AS r FROM accounts a ORDER BY id').then((rows) =>
    rows.map((x) => x.r),
  );
const itemCount = (lab: PrivateLab, node: string) =>
  on<{ n: string }>(lab, node, 'SELECT count(*)::text AS n FROM items').then((r) => Number(r[0]!.n));

/** pg1 was the primary; pg2 was promoted while pg1 kept accepting writes. */
const sides = (inventory: string) => ['--from', 'pg1', '--to', 'pg2', '-i', inventory, '-e', 'lab'];
const LWW = ['--key', 'id', '--updated-at', 'updated_at', '--policy', 'lww'];

describe('diverge after a split brain (private lab, slot 21)', () => {
  const lab = privateLab(21);
  let args: string[] = [];

  before(async () => {
    const l = lab({ skip: () => undefined } as never);
    if (!l) return;
    // The shared history: on pg1, replicated to pg2 before pg2 is promoted.
    await on(
      l,
      'pg1',
      `CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL, updated_at timestamptz NOT NULL);
       INSERT INTO accounts VALUES (1,'a','2024-01-15 10:00:00+00'),(2,'b','2024-01-15 10:00:00+00'),
         (3,'c','2024-01-15 10:00:00+00'),(4,'d','2024-01-15 10:00:00+00');
       CREATE TABLE items (sku text PRIMARY KEY, qty int NOT NULL, updated_at timestamptz NOT NULL DEFAULT '2024-01-15 10:00:00+00');
       INSERT INTO items (sku, qty) SELECT 'k' || lpad(g::text, 5, '0'), g FROM generate_series(1, 2500) g;`,
    );
    const replicated = await pollUntil(
      async () => ((await itemCount(l, 'pg2').catch(() => 0)) === 2500 ? true : undefined),
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    assert.ok(replicated, 'pg2 did not replay the shared history');
    await on(l, 'pg2', 'SELECT pg_promote(true, 60)');
    // The split: each side accepts writes the other never sees.
    await on(
      l,
      'pg1',
      `INSERT INTO accounts VALUES (10,'only-old','2024-01-15 10:30:02+00');
       UPDATE accounts SET name='old-later', updated_at='2024-01-15 10:30:05+00' WHERE id=2;
       UPDATE accounts SET name='old-earlier', updated_at='2024-01-15 10:30:00+00' WHERE id=3;
       INSERT INTO items (sku, qty) VALUES ('k01200x', 7);`,
    );
    await on(
      l,
      'pg2',
      `INSERT INTO accounts VALUES (20,'only-new','2024-01-15 10:30:03+00');
       UPDATE accounts SET name='new-earlier', updated_at='2024-01-15 10:30:01+00' WHERE id=2;
       UPDATE accounts SET name='new-later', updated_at='2024-01-15 10:30:09+00' WHERE id=3;`,
    );
    args = sides(l.inventoryPath);
  });

  test('reports rows only on each side and rows changed on both, with both versions; nothing changes', async (t) => {
    const l = lab(t);
    if (!l) return;
    const before = { old: await accounts(l, 'pg1'), new: await accounts(l, 'pg2') };
    const out = join(dir, 'report-only');
    const a = await cli('diverge', ...args, '--table', 'accounts', ...LWW, '--out', out);
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /^accounts: 1 only on pg1, 1 only on pg2, 2 changed on both$/m);
    assert.match(a.stdout, /last write wins would write 2 row\(s\) into pg2 \(not applied/);
    const report = JSON.parse(readFileSync(join(out, 'reconciliation.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    delete report.generatedAt;
    const v = (id: number, name: string, at: string) => ({
      row: { id, name, updated_at: `2024-01-15T${at}+00:00` },
      updatedAt: `2024-01-15T${at}.000000`,
    });
    assert.deepEqual(report, {
      environment: 'lab',
      from: 'pg1',
      to: 'pg2',
      policy: 'lww',
      updatedAt: 'updated_at',
      apply: false,
      tables: [
        {
          table: 'accounts',
          key: 'id',
          onlyOld: [{ key: '10', ...v(10, 'only-old', '10:30:02') }],
          onlyNew: [{ key: '20', ...v(20, 'only-new', '10:30:03') }],
          changed: [
            {
              key: '2',
              old: v(2, 'old-later', '10:30:05'),
              new: v(2, 'new-earlier', '10:30:01'),
              winner: 'old',
            },
            {
              key: '3',
              old: v(3, 'old-earlier', '10:30:00'),
              new: v(3, 'new-later', '10:30:09'),
              winner: 'new',
            },
          ],
        },
      ],
    });
    const md = readFileSync(join(out, 'reconciliation.md'), 'utf8');
    assert.match(md, /\| 2 \| .*"old-later".* \| .*"new-earlier".* \| pg1 \|/);
    assert.match(md, /\| 3 \| .*"old-earlier".* \| .*"new-later".* \| pg2 \|/);
    // A table larger than one page (keyset paging over text keys): the one extra row is found.
    const items = await cli(
      'diverge',
      ...args,
      '--table',
      'items',
      '--key',
      'sku',
      '--out',
      join(dir, 'items'),
    );
    assert.equal(items.code, 0, items.stderr);
    assert.match(items.stdout, /^items: 1 only on pg1, 0 only on pg2, 0 changed on both$/m);
    assert.deepEqual({ old: await accounts(l, 'pg1'), new: await accounts(l, 'pg2') }, before);
  });

  test('a table without the key column: one clear line, exit 2, no report, nothing touched', async (t) => {
    const l = lab(t);
    if (!l) return;
    const before = { old: await accounts(l, 'pg1'), new: await accounts(l, 'pg2') };
    const out = join(dir, 'no-key');
    const r = await cli('diverge', ...args, '--table', 'accounts,items', ...LWW, '--apply', '--out', out);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim(), 'error: table "items" has no key column "id"');
    assert.equal(r.stdout, '');
    assert.equal(existsSync(out), false);
    assert.deepEqual({ old: await accounts(l, 'pg1'), new: await accounts(l, 'pg2') }, before);
  });

  test('--apply on an environment labelled production is refused: exit 2, nothing touched', async (t) => {
    const l = lab(t);
    if (!l) return;
    const inventory = parse(readFileSync(l.inventoryPath, 'utf8')) as Inventory;
    inventory.environments.lab!.label = 'production';
    const file = join(dir, 'production.yaml');
    writeFileSync(file, stringify(inventory));
    const before = await accounts(l, 'pg2');
    const out = join(dir, 'production');
    const r = await cli('diverge', ...sides(file), '--table', 'accounts', ...LWW, '--apply', '--out', out);
    assert.equal(r.code, 2);
    assert.equal(
      r.stderr.trim(),
      'error: --apply refused: environment "lab" is labelled production; diverge writes only on staging',
    );
    assert.equal(existsSync(out), false);
    assert.deepEqual(await accounts(l, 'pg2'), before);
  });

  test('--apply --policy lww writes the later versions into the new primary, report first; the old one stays', async (t) => {
    const l = lab(t);
    if (!l) return;
    const oldBefore = await accounts(l, 'pg1');
    assert.deepEqual(await accounts(l, 'pg2'), [
      '(1,a,"2024-01-15 10:00:00+00")',
      '(2,new-earlier,"2024-01-15 10:30:01+00")',
      '(3,new-later,"2024-01-15 10:30:09+00")',
      '(4,d,"2024-01-15 10:00:00+00")',
      '(20,only-new,"2024-01-15 10:30:03+00")',
    ]);
    const out = join(dir, 'apply');
    const r = await cli('diverge', ...args, '--table', 'accounts', ...LWW, '--apply', '--out', out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /applied: 2 row\(s\) written into pg2/);
    assert.deepEqual(await accounts(l, 'pg2'), [
      '(1,a,"2024-01-15 10:00:00+00")',
      '(2,old-later,"2024-01-15 10:30:05+00")',
      '(3,new-later,"2024-01-15 10:30:09+00")',
      '(4,d,"2024-01-15 10:00:00+00")',
      '(10,only-old,"2024-01-15 10:30:02+00")',
      '(20,only-new,"2024-01-15 10:30:03+00")',
    ]);
    assert.deepEqual(await accounts(l, 'pg1'), oldBefore);
    const report = JSON.parse(readFileSync(join(out, 'reconciliation.json'), 'utf8')) as {
      applied?: { rows: number };
    };
    assert.equal(report.applied?.rows, 2);
    // Reconciled: only what the new primary alone has (and the lost race of row 3) remains.
    const again = await cli(
      'diverge',
      ...args,
      '--table',
      'accounts',
      '--key',
      'id',
      '--out',
      join(dir, 'again'),
    );
    assert.match(again.stdout, /^accounts: 0 only on pg1, 1 only on pg2, 1 changed on both$/m);
  });
});

describe('drills/split-brain.yaml (private lab, slot 21)', () => {
  // Asynchronous: with quorum commit the woken old primary would wait for standbys it no longer has
  // and acknowledge nothing (synchronous replication's own protection against a split brain).
  const lab = privateLab(21);

  test('the old primary takes writes after the promotion; diverge reports them before the rejoin, and LWW keeps them', async (t) => {
    const l = lab(t);
    if (!l) return;
    const stateDir = join(dir, 'drill-state');
    const quiet = { out: () => undefined, err: () => undefined };
    const outcome = await runDrill(
      { drillFile: 'drills/split-brain.yaml', inventoryFile: l.inventoryPath, stateDir },
      quiet,
    );
    // Detected: the writes the old primary took are counted; the drill expects them (splitBrain:
    // expected), so they pass it, and a drill that caused none would fail.
    const splitBrainWrites = outcome.figures?.splitBrainWrites ?? 0;
    assert.ok(splitBrainWrites > 0, `no split-brain write counted: ${outcome.reasons?.join('; ')}`);
    assert.equal(outcome.verdict, 'pass', outcome.reasons?.join('; '));
    assert.equal(outcome.restore?.status, 'succeeded', outcome.restore?.error);

    // The restore (failback) compared the two primaries before it rewound the old one.
    const events = readJournal(journalPath(stateDir, outcome.restore!.runId!)).events;
    const at = (type: string, stepId: string) =>
      events.findIndex((e) => e.type === type && 'stepId' in e && e.stepId === stepId);
    const reconciled = events[at('step-finished', 'reconcile')];
    assert.ok(reconciled?.type === 'step-finished' && reconciled.status === 'succeeded');
    assert.ok(at('step-finished', 'reconcile') < at('step-started', 'rejoin-original'));
    const outputs = reconciled.outputs as {
      report: string;
      reportJson: string;
      onlyOld: number;
      applied: number;
    };
    assert.ok(existsSync(outputs.report));
    const report = JSON.parse(readFileSync(outputs.reportJson, 'utf8')) as {
      from: string;
      applied?: { rows: number };
      tables: {
        onlyOld: { key: string }[];
        changed: { key: string; old: { updatedAt: string }; new: { updatedAt: string }; winner: string }[];
      }[];
    };
    assert.equal(report.from, 'pg1');
    const table = report.tables[0]!;
    const oldRows = table.onlyOld.map((r) => r.key);
    // Every write the old client made after the promotion is a row only the old primary had.
    assert.ok(
      oldRows.length >= splitBrainWrites,
      `${oldRows.length} rows only on pg1, ${splitBrainWrites} split-brain writes`,
    );
    assert.ok(oldRows.every((k) => /^old-\d+$/.test(k)));
    // The shared row changed on both sides: both versions, the later one wins.
    const shared = table.changed.find((c) => c.key === 'shared');
    assert.ok(shared, 'the shared row is not reported as changed on both sides');
    assert.equal(shared.winner, shared.old.updatedAt > shared.new.updatedAt ? 'old' : 'new');
    assert.equal(report.applied?.rows, oldRows.length + (shared.winner === 'old' ? 1 : 0));

    // Reconciled: after the failback the split-brain rows live on the primary (pg1, rewound and
    // promoted again), and the lab is in its steady state.
    const kept = await on<{ id: string }>(
      l,
      'pg1',
      `SELECT id FROM drillbook_split_brain WHERE id LIKE 'old-%'`,
    );
    const keptIds = new Set(kept.map((r) => r.id));
    assert.deepEqual(
      oldRows.filter((k) => !keptIds.has(k)),
      [],
    );
    const steady = await checkSteadyState(l.env, resolveSecretRef);
    assert.deepEqual(steady.problems, []);
  });
});

describe('a split-brain drill with a typo in its restore inputs', () => {
  test('is refused by validate with file:line:col, exit 2', async () => {
    const file = join(dir, 'typo.yaml');
    writeFileSync(
      file,
      readFileSync('drills/split-brain.yaml', 'utf8')
        .replaceAll('../runbooks/', `${process.cwd()}/runbooks/`)
        .replace('reconcileKey: id', 'reconcileKye: id'),
    );
    const r = await cli('validate', file);
    assert.equal(r.code, 2);
    assert.match(
      r.stdout + r.stderr,
      /typo\.yaml:\d+:\d+: the restore runbook has no input "reconcileKye" \(did you mean "reconcileKey"\?\)/,
    );
  });
});
