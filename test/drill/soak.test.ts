// A short soak: primary-kill drills back to back in one process, as the daemon runs scheduled ones.
// The restore (failback) then starts right after the kill, while the killed postmaster may still be
// an unreaped zombie that leaves postmaster.pid behind: its rejoin must count it as stopped at once.
// Also: the replication password never lands in primary_conninfo (it is in a 0600 passfile).
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveSecretRef } from '../../src/connectors/secrets.js';
import { runDrill } from '../../src/drill/run-drill.js';
import { checkSteadyState } from '../../src/drill/steady-state.js';
import { privateLab } from '../helpers/private-lab.js';

const DRILLS = 10;
const quiet = { out: () => undefined, err: () => undefined };

describe('drill soak', () => {
  const lab = privateLab(22, { sync: true });
  const stateDir = mkdtempSync(join(tmpdir(), 'drillbook-soak-test-'));
  after(() => rmSync(stateDir, { recursive: true, force: true }));

  it(`${DRILLS} primary-kill drills back to back in one process all pass with RPO 0`, async (t) => {
    const l = lab(t);
    if (!l) return;
    const failures: string[] = [];
    for (let i = 1; i <= DRILLS; i++) {
      const o = await runDrill(
        { drillFile: 'drills/primary-kill.yaml', inventoryFile: l.inventoryPath, stateDir },
        quiet,
      );
      t.diagnostic(
        `drill ${i}: ${o.verdict}, RTO ${o.figures?.rtoMs?.toFixed(0)} ms, RPO ${o.figures?.rpoRows}, restore ${o.restore?.status}`,
      );
      if (o.verdict !== 'pass' || o.figures?.rpoRows !== 0 || o.restore?.status !== 'succeeded') {
        failures.push(`drill ${i} (${o.runId}): ${(o.reasons ?? []).join('; ')} ${o.restore?.error ?? ''}`);
        // A failed restore leaves the lab degraded: the next drills would only be refused.
        if (o.restore?.status !== 'succeeded') break;
      }
    }
    assert.deepEqual(failures, []);
  });

  it('after the rejoins, primary_conninfo names a 0600 passfile and holds no password; replication works', async (t) => {
    const l = lab(t);
    if (!l) return;
    const pg = l.environment.postgres;
    const password = await resolveSecretRef(pg.replicationPassword!);
    for (const [name, node] of Object.entries(pg.nodes)) {
      const auto = readFileSync(join(node.dataDir!, 'postgresql.auto.conf'), 'utf8');
      assert.ok(!auto.includes(password), `${name}: postgresql.auto.conf holds the replication password`);
      const conninfo = auto.split('\n').find((line) => line.startsWith('primary_conninfo'));
      if (!conninfo) continue; // never rejoined by drillbook
      assert.doesNotMatch(conninfo, /password/, name);
      const passfile = /passfile=''?([^' ]+)/.exec(conninfo)?.[1];
      assert.ok(passfile, `${name}: ${conninfo}`);
      assert.equal(statSync(passfile).mode & 0o777, 0o600, `${name}: ${passfile} mode`);
      assert.ok(readFileSync(passfile, 'utf8').includes(password), `${name}: ${passfile} holds the password`);
    }
    const rejoined = Object.values(pg.nodes).filter((n) =>
      /passfile=.*drillbook-pgpass/.test(readFileSync(join(n.dataDir!, 'postgresql.auto.conf'), 'utf8')),
    );
    assert.ok(rejoined.length >= 2, 'the drills rejoined the replicas through the passfile');
    const steady = await checkSteadyState(l.env, resolveSecretRef);
    assert.deepEqual(steady.problems, []);
  });
});
