// Bad input that used to escape as a bug (a stack trace, exit 70, a hang, a silent accept): each is
// one located line, exit 2, nothing executed. And a closed stdout never stops a run.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseSite, evaluate } from '../../src/runbook/expressions.js';
import { resolveInputs } from '../../src/runbook/inputs.js';
import { writeFiles } from '../engine/helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'drillbook-bad-input-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const drillbook = (...args: string[]) =>
  spawnSync(process.execPath, ['bin/drillbook.js', ...args], { encoding: 'utf8', timeout: 20_000 });
const runbook = (name: string, body: string) => {
  const file = join(tmp, `${name}.yaml`);
  writeFileSync(file, `apiVersion: drillbook/v1\nkind: Runbook\nmetadata: { name: t }\n${body}`);
  return file;
};
/** Exit 2 and exactly one line on stderr, located where a file is. */
function badInput(r: ReturnType<typeof drillbook>, pattern: RegExp) {
  assert.equal(r.status, 2, `exit ${r.status}: ${r.stderr}`);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr.trim(), pattern);
}

describe('bad files', () => {
  it('a directory as FILE', () => {
    badInput(drillbook('validate', tmp), new RegExp(`^${tmp}:1:1: is a directory`));
  });
  it('/dev/zero as FILE (no hang, no unbounded read)', () => {
    badInput(drillbook('validate', '/dev/zero'), /^\/dev\/zero:1:1: not a regular file/);
  });
  it('a FIFO as FILE', () => {
    const fifo = join(tmp, 'fifo');
    execFileSync('mkfifo', [fifo]);
    badInput(drillbook('validate', fifo), /fifo:1:1: not a regular file/);
  });
  it('non-UTF-8 bytes: refused at their line:col', () => {
    const file = join(tmp, 'latin1.yaml');
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from('apiVersion: drillbook/v1\nkind: Runbook # caf'),
        Buffer.from([0xe9, 0x0a]),
      ]),
    );
    badInput(drillbook('validate', file), /latin1\.yaml:2:20: not UTF-8: byte 0xe9 at offset 44/);
  });
  it('!!js/function and unknown tags', () => {
    for (const tag of ['!!js/function', '!custom']) {
      const file = runbook(
        `tag${tag.length}`,
        `steps:\n  - { id: a, kind: wait, with: { duration: ${tag} "1s" } }\n`,
      );
      badInput(drillbook('validate', file), /:5:\d+: invalid YAML: .*tag/i);
    }
  });
  it('a 10 KB expression: refused at parse, no stack overflow', () => {
    const file = runbook(
      'long',
      `steps:\n  - { id: a, kind: notify, with: { text: "\${{ ${Array(5000).fill('1').join('+')} }}" } }\n`,
    );
    badInput(drillbook('validate', file), /long\.yaml:5:\d+: expression too long/);
  });
  it('[,1] is refused by validate', () => {
    const file = runbook(
      'sparse',
      `steps:\n  - { id: a, kind: notify, with: { text: "\${{ len([,1]) }}" } }\n`,
    );
    badInput(drillbook('validate', file), /sparse\.yaml:5:\d+: a list may not have empty elements/);
  });
  it('timeout: 600h (past what a timer holds) is refused, as are budgets, delays and wait durations', () => {
    const file = runbook(
      'long-timeout',
      `steps:\n  - { id: a, kind: wait, timeout: 600h, budget: 1000h, retry: { attempts: 2, delay: 700h }, with: { duration: 900h } }\n`,
    );
    const r = drillbook('validate', file);
    assert.equal(r.status, 2);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 4, r.stderr);
    for (const l of lines)
      assert.match(l, /long-timeout\.yaml:5:\d+: \d+h is longer than the longest duration/);
  });
});

describe('expressions and inputs read own properties only', () => {
  it('--set constructor=1 and __proto__=1 are unknown inputs', () => {
    for (const key of ['constructor', '__proto__', 'toString']) {
      assert.throws(
        () => resolveInputs({ a: { type: 'string' } }, Object.fromEntries([[key, '1']])),
        /unknown input/,
      );
    }
  });
  it('deep nesting is refused at parse; [,1] never reaches evaluation', () => {
    const site = (source: string) => ({ source, start: 0, end: source.length + 5 });
    assert.throws(() => parseSite(site(`${'!'.repeat(40)}1`)), /nested too deeply/);
    assert.throws(() => parseSite(site('[,1]')), /empty elements/);
    assert.equal(evaluate(parseSite(site('inputs.constructor')), { inputs: {} }), undefined);
  });
});

describe('a closed stdout', () => {
  it('--json | head -1: the run goes on to its end, journal written, no lock left', async () => {
    const dir = join(tmp, 'epipe');
    mkdirSync(dir);
    const files = writeFiles(
      dir,
      `steps:\n${Array.from({ length: 6 }, (_, i) => `  - { id: s${i}, kind: wait, with: { duration: 100ms } }`).join('\n')}\n`,
    );
    const state = join(dir, '.drillbook');
    const child = spawn(
      process.execPath,
      [
        join(process.cwd(), 'bin/drillbook.js'),
        'run',
        files.runbook,
        '--env',
        'test',
        '--inventory',
        files.inventory,
        '--json',
        '--yes',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir, env: { ...process.env, DRILLBOOK_STATE_DIR: state } },
    );
    // Like head -1: read one line, then close the pipe.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0);
    const runs = readdirSync(join(state, 'runs'));
    assert.equal(runs.length, 1);
    const journal = readFileSync(join(state, 'runs', runs[0]!, 'journal.jsonl'), 'utf8');
    assert.match(journal, /"type":"run-finished".*"status":"succeeded"/);
    assert.equal(existsSync(join(state, 'locks')) && readdirSync(join(state, 'locks')).length > 0, false);
  });
});

describe('bad client profiles', () => {
  // A drill whose profiles do not make sense is refused before anything runs: no state, no run.
  for (const [name, pattern] of [
    ['drill-client-unknown-key', /drill-client-unknown-key\.yaml:10:7: unknown key "conectTimeout"/],
    ['drill-client-zero-timeout', /drill-client-zero-timeout\.yaml:9:63: writeTimeout must be longer than 0/],
    ['drill-client-negative-timeout', /drill-client-negative-timeout\.yaml:10:23: "-5s" is not valid/],
    [
      'drill-client-duplicate-name',
      /drill-client-duplicate-name\.yaml:11:15: duplicate client profile "typical"/,
    ],
    [
      'drill-objective-unknown-profile',
      /drill-objective-unknown-profile\.yaml:11:42: objectives\.profile names no client profile: "impatent"/,
    ],
  ] as const) {
    it(`drillbook drill ${name}.yaml: exit 2, nothing run`, () => {
      const state = join(tmp, `state-${name}`);
      badInput(drillbook('drill', `test/fixtures/invalid/${name}.yaml`, '--state-dir', state), pattern);
      assert.equal(existsSync(state), false, 'nothing was written');
    });
  }
});
