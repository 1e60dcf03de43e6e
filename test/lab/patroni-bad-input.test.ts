// Bad input for the Patroni lab and inventories: one clear line, exit 2, nothing started.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { UserError } from '../../src/errors.js';
import { resolveLabConfig } from '../../src/lab/config.js';

const tmp = mkdtempSync(join(tmpdir(), 'drillbook-patroni-bad-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const drillbook = (...args: string[]) =>
  spawnSync(process.execPath, ['bin/drillbook.js', ...args], { encoding: 'utf8', timeout: 20_000 });

function badInput(r: ReturnType<typeof drillbook>, pattern: RegExp) {
  assert.equal(r.status, 2, `exit ${r.status}: ${r.stderr}`);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr.trim(), pattern);
}

const INVENTORY = `apiVersion: drillbook/v1
kind: Inventory
environments:
  staging:
    label: staging
    primary: pg1
    replicas: [pg2]
    postgres:
      database: app
      user: app
      nodes:
        pg1: { host: 10.0.0.1, port: 5432 }
        pg2: { host: 10.0.0.2, port: 5432 }
    ha:
      manager: patroni
      dcs: { type: etcd3, endpoints: ["10.0.0.1:2379"] }
`;

describe('Patroni bad input', () => {
  test('an inventory with ha.manager patroni and no REST endpoint: located error', () => {
    const file = join(tmp, 'no-rest.yaml');
    writeFileSync(file, INVENTORY);
    badInput(drillbook('validate', file), new RegExp(`^${file}:15:7: missing required key "rest"$`));
  });

  test('a REST URL that is not a base URL: located error', () => {
    const file = join(tmp, 'bad-url.yaml');
    writeFileSync(
      file,
      INVENTORY.replace('      dcs:', '      rest: { urls: { pg1: "10.0.0.1:8008" } }\n      dcs:'),
    );
    badInput(drillbook('validate', file), new RegExp(`^${file}:16:\\d+: .*http://10\\.0\\.0\\.1:8008`));
  });

  test('lab up: --ha other than patroni, --patroni without --ha, and timings Patroni cannot keep', () => {
    const dir = join(tmp, 'lab');
    badInput(
      drillbook('lab', 'up', '--dir', dir, '--ha', 'keepalived'),
      /--ha must be patroni, got "keepalived"/,
    );
    badInput(drillbook('lab', 'up', '--dir', dir, '--patroni', 'ttl=8'), /--patroni needs --ha patroni/);
    badInput(
      drillbook(
        'lab',
        'up',
        '--dir',
        dir,
        '--ha',
        'patroni',
        '--patroni',
        'ttl=5,loop_wait=1,retry_timeout=3',
      ),
      /ttl >= loop_wait \+ 2 \* retry_timeout, got ttl=5,loop_wait=1,retry_timeout=3/,
    );
    badInput(
      drillbook('lab', 'up', '--dir', dir, '--ha', 'patroni', '--patroni', 'ttl=8,wait=1'),
      /--patroni takes ttl=N,loop_wait=N,retry_timeout=N .*got "wait=1"/,
    );
    assert.equal(existsSync(dir), false, 'nothing was created');
  });

  test('the Patroni REST port may not take a port the nodes already use', () => {
    assert.throws(
      () => resolveLabConfig({ ha: 'patroni', patroniRestPort: 5432 }),
      (err: unknown) =>
        err instanceof UserError &&
        /--patroni-rest-port and --pg-port both ask for port 5432/.test(err.message),
    );
  });
});
