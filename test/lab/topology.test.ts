// Lab shapes without a lab: --topology trees, --sync-mode rules, and bad input through the CLI
// (exit 2, one line, nothing created).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { resolveLabConfig } from '../../src/lab/config.js';
import { readState } from '../../src/lab/state.js';
import { parseSyncMode, parseTopology, synchronousStandbyNames } from '../../src/lab/topology.js';
import { treeLevels } from '../../src/schema/inventory.js';

const NODES = ['pg1', 'pg2', 'pg3', 'pg4'];

describe('--topology', () => {
  test('star is the default, cascade is a chain, links make any tree (unnamed replicas on the primary)', () => {
    assert.deepEqual(parseTopology(undefined, NODES), { pg2: 'pg1', pg3: 'pg1', pg4: 'pg1' });
    assert.deepEqual(parseTopology('cascade', NODES), { pg2: 'pg1', pg3: 'pg2', pg4: 'pg3' });
    assert.deepEqual(parseTopology('pg1>pg2, pg2>pg3', NODES), { pg2: 'pg1', pg3: 'pg2', pg4: 'pg1' });
    assert.deepEqual(parseTopology('pg1>pg3>pg2>pg4', NODES), { pg2: 'pg3', pg3: 'pg1', pg4: 'pg2' });
    assert.deepEqual(treeLevels(parseTopology('pg1>pg2,pg2>pg3', NODES), 'pg1'), [['pg2', 'pg4'], ['pg3']]);
  });

  const bad: [string, RegExp][] = [
    ['pg2>pg3,pg3>pg2', /^--topology: pg\d>pg\d>pg\d is a loop: every replica must lead back to pg1$/],
    ['pg2>pg3,pg3>pg4,pg4>pg2', /is a loop/],
    ['pg1>pg5', /^--topology: "pg5" is not a node of this lab \(pg1, pg2, pg3, pg4\)/],
    ['pg2>pg1', /pg1 is the primary; it streams from no one/],
    ['pg1>pg2,pg3>pg2', /pg2 has two upstreams, pg1 and pg3/],
    ['pg1>', /"pg1>" is not a link/],
    ['pg2>pg2', /pg2 cannot stream from itself/],
  ];
  for (const [spec, message] of bad) {
    test(`"${spec}" is refused in one line`, () => {
      assert.throws(
        () => parseTopology(spec, NODES),
        (err: Error) => err.name === 'UserError' && message.test(err.message) && !err.message.includes('\n'),
      );
    });
  }
});

describe('--sync-mode', () => {
  const star = parseTopology(undefined, ['pg1', 'pg2', 'pg3']);
  const chain = parseTopology('cascade', ['pg1', 'pg2', 'pg3']);
  test('quorum, first and all give ANY 1, FIRST 1 and FIRST <every direct standby>', () => {
    const names = ['pg2', 'pg3'];
    assert.equal(synchronousStandbyNames(parseSyncMode('async', star, 'pg1'), names), '');
    assert.equal(synchronousStandbyNames(parseSyncMode('quorum', star, 'pg1'), names), 'ANY 1 (pg2, pg3)');
    assert.equal(synchronousStandbyNames(parseSyncMode('first', star, 'pg1'), names), 'FIRST 1 (pg2, pg3)');
    assert.equal(synchronousStandbyNames(parseSyncMode('all', star, 'pg1'), names), 'FIRST 2 (pg2, pg3)');
    assert.equal(synchronousStandbyNames(parseSyncMode('quorum:2', star, 'pg1'), names), 'ANY 2 (pg2, pg3)');
  });
  test('only the primary’s direct standbys count: a chain has one', () => {
    assert.deepEqual(parseSyncMode('all', chain, 'pg1'), { mode: 'all', count: 1 });
    assert.throws(() => parseSyncMode('first:2', chain, 'pg1'), /pg1 has 1 direct standby\(s\) \(pg2\)/);
  });
  test('--sync stays an alias of quorum, and cannot go with another mode', () => {
    assert.deepEqual(resolveLabConfig({ sync: true }).sync, { mode: 'quorum', count: 1 });
    assert.deepEqual(resolveLabConfig({}).sync, { mode: 'async', count: 0 });
    assert.throws(() => resolveLabConfig({ sync: true, syncMode: 'first' }), /--sync is --sync-mode quorum/);
  });
  test('unknown modes and counts are refused', () => {
    assert.throws(
      () => parseSyncMode('semi', star, 'pg1'),
      /--sync-mode must be async, quorum, first or all/,
    );
    assert.throws(() => parseSyncMode('all:2', star, 'pg1'), /--sync-mode must be/);
    assert.throws(() => parseSyncMode('first:0', star, 'pg1'), /waits for 1 standby/);
  });
});

describe('lab up with a bad shape (CLI)', () => {
  const root = mkdtempSync(join(tmpdir(), 'drillbook-topology-bad-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const cases: [string, string[], RegExp][] = [
    ['a loop', ['--topology', 'pg2>pg3,pg3>pg2'], /^error: --topology: pg\d>pg\d>pg\d is a loop/],
    ['an upstream that is not a node', ['--topology', 'pg1>pg2,pg7>pg3'], /"pg7" is not a node of this lab/],
    [
      'first with more standbys than replicas',
      ['--replicas', '2', '--sync-mode', 'first:3'],
      /^error: --sync-mode first:3 waits for 3 standby\(s\), but pg1 has 2 direct standby\(s\)/,
    ],
  ];
  for (const [what, args, message] of cases) {
    test(`${what}: exit 2, one line, nothing created`, () => {
      const dir = join(root, 'lab');
      const r = spawnSync(process.execPath, ['bin/drillbook.js', 'lab', 'up', '--dir', dir, ...args], {
        encoding: 'utf8',
      });
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.equal(existsSync(dir), false, 'a refused lab up created its directory');
    });
  }
});

describe('an inventory’s upstreams (drillbook validate)', () => {
  const root = mkdtempSync(join(tmpdir(), 'drillbook-topology-inv-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const example = readFileSync('examples/inventory.yaml', 'utf8');
  const cases: [string, (text: string) => string, RegExp][] = [
    [
      'an upstream that is not a node',
      (t) =>
        t.replace(
          'pg3: { host: 10.10.0.13, port: 5432,',
          'pg3: { host: 10.10.0.13, port: 5432, upstream: pg9,',
        ),
      /inventory\.yaml:22:\d+: .*unknown node "pg9"/,
    ],
    [
      'a loop of upstreams',
      (t) =>
        t
          .replace(
            'pg2: { host: 10.10.0.12, port: 5432,',
            'pg2: { host: 10.10.0.12, port: 5432, upstream: pg3,',
          )
          .replace(
            'pg3: { host: 10.10.0.13, port: 5432,',
            'pg3: { host: 10.10.0.13, port: 5432, upstream: pg2,',
          ),
      /inventory\.yaml:21:\d+: .*pg2 < pg3 < pg2 is a loop of upstreams/,
    ],
  ];
  for (const [what, edit, message] of cases) {
    test(`${what}: located error, exit 2`, () => {
      const file = join(root, 'inventory.yaml');
      const text = edit(example);
      assert.notEqual(text, example);
      writeFileSync(file, text);
      const r = spawnSync(process.execPath, ['bin/drillbook.js', 'validate', file], { encoding: 'utf8' });
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stdout + r.stderr, message);
    });
  }
});

test('a lab state written before topologies reads as a star with its old --sync', () => {
  const dir = mkdtempSync(join(tmpdir(), 'drillbook-topology-state-'));
  try {
    const file = join(dir, 'state.json');
    const config = { ...resolveLabConfig({}), sync: true } as Record<string, unknown>;
    delete config.upstreams;
    writeFileSync(file, JSON.stringify({ version: 1, dir, config, components: {} }));
    const read = readState(file)!.config;
    assert.deepEqual(read.sync, { mode: 'quorum', count: 1 });
    assert.deepEqual(read.upstreams, { pg2: 'pg1', pg3: 'pg1' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
