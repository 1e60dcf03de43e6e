// Inventory values reach shell command lines (faults, fence, rejoin): they are quoted, never
// interpreted. The repro: a dataDir holding a quote and a command, and a freeze fault left behind
// by a drill that died; the next drill reverts that fault before its steady-state check.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { recordFault } from '../../src/drill/pending-faults.js';
import { runDrill } from '../../src/drill/run-drill.js';
import { partition } from '../../src/drill/faults/partition.js';
import { stopPostgres } from '../../src/drill/faults/stop-postgres.js';
import { killPostgres } from '../../src/drill/faults/kill-postgres.js';
import type { EnvContext } from '../../src/actions/types.js';

const dir = mkdtempSync(join(tmpdir(), 'drillbook-injection-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const quiet = { out: () => undefined, err: () => undefined };
const pwned = join(dir, 'pwned');
const evilDir = `/x'; touch ${pwned}; echo '`;

/** An environment whose only node (local, no SSH) has the given host and dataDir. */
function env(host: string, dataDir: string): EnvContext {
  return {
    name: 'lab',
    label: 'staging',
    primary: 'pg1',
    replicas: [],
    postgres: { database: 'app', user: 'app', nodes: { pg1: { host, port: 1, dataDir } } },
  } as EnvContext;
}

const faultCtx = (e: EnvContext) => ({ env: e, node: 'pg1', secret: async () => '', log: () => undefined });

describe('inventory values on shell command lines', () => {
  it('a leftover freeze fault is reverted without running a command hidden in dataDir', async () => {
    const inventoryFile = join(dir, 'inventory.yaml');
    writeFileSync(
      inventoryFile,
      stringify({
        apiVersion: 'drillbook/v1',
        kind: 'Inventory',
        environments: {
          lab: {
            label: 'staging',
            primary: 'pg1',
            replicas: [],
            // Port 1: nothing listens, so the steady-state check fails at once after the revert.
            postgres: {
              database: 'app',
              user: 'app',
              nodes: { pg1: { host: '127.0.0.1', port: 1, dataDir: evilDir } },
            },
            routers: {
              main: {
                type: 'haproxy',
                socket: join(dir, 'no-haproxy.sock'),
                backend: 'pg',
                server: 'primary',
                listen: { host: '127.0.0.1', port: 1 },
              },
            },
          },
        },
      }),
    );
    const stateDir = join(dir, 'state');
    recordFault(stateDir, {
      runId: 'died-mid-freeze',
      environment: 'lab',
      inventoryFile,
      kind: 'freeze',
      node: 'pg1',
      durationMs: 10_000,
      since: new Date().toISOString(),
    });
    const drillFile = join(dir, 'drill.yaml');
    writeFileSync(
      join(dir, 'runbook.yaml'),
      stringify({
        apiVersion: 'drillbook/v1',
        kind: 'Runbook',
        metadata: { name: 'nothing' },
        steps: [{ id: 'pause', kind: 'wait', with: { duration: '1ms' } }],
      }),
    );
    writeFileSync(
      drillFile,
      stringify({
        apiVersion: 'drillbook/v1',
        kind: 'Drill',
        metadata: { name: 'freeze' },
        runbook: 'runbook.yaml',
        environment: 'lab',
        fault: { kind: 'freeze', target: 'primary', duration: '1s' },
        probe: { via: 'router', router: 'main' },
        objectives: { rto: '10s', rpo: 0 },
      }),
    );
    const o = await runDrill({ drillFile, inventoryFile, stateDir }, quiet);
    assert.notEqual(o.verdict, 'pass');
    assert.equal(existsSync(pwned), false, 'the command in dataDir ran');
  });

  it('kill-postgres and stop-postgres quote dataDir too', async () => {
    await assert.rejects(killPostgres.inject(faultCtx(env('127.0.0.1', evilDir))));
    await assert.rejects(stopPostgres.inject(faultCtx(env('127.0.0.1', evilDir))));
    assert.equal(existsSync(pwned), false);
  });

  it('partition refuses a host that only starts like a loopback address', async () => {
    const e = env(`127.0.0.1;touch ${pwned}`, '/nowhere');
    await assert.rejects(partition.inject(faultCtx(e)), /not a local address/);
    await assert.rejects(partition.revert(faultCtx(e)), /not a local address/);
    assert.equal(existsSync(pwned), false);
  });
});
