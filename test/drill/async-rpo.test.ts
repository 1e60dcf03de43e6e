// Under asynchronous replication a failover can lose acknowledged writes; the drill's RPO figure
// must be exactly what can be shown lost. The test cuts the replication stream (iptables on the
// walsenders' connections only), so every probe write acknowledged meanwhile exists only on the
// primary; after the drill it starts the killed primary again and compares its rows with the new
// primary's, independently of the drill's own bookkeeping.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { withNode } from '../../src/connectors/postgres.js';
import { resolveSecretRef } from '../../src/connectors/secrets.js';
import { sshExec } from '../../src/connectors/ssh.js';
import { PROBE_TABLE, probeRowKey } from '../../src/drill/probe.js';
import { DEFAULT_CLIENT_PROFILE } from '../../src/schema/drill.js';
import { readJournal } from '../../src/engine/journal.js';
import { journalPath } from '../../src/system/run-paths.js';
import { runDrill } from '../../src/drill/run-drill.js';
import { privateLab } from '../helpers/private-lab.js';

const CHAIN = 'DRILLBOOK-TEST-CUT';
const secret = resolveSecretRef;
const stateDir = mkdtempSync(join(tmpdir(), 'drillbook-async-rpo-'));
const iptables = (...args: string[]) => execFileSync('iptables', args, { stdio: 'pipe' });
after(() => {
  try {
    iptables('-D', 'INPUT', '-j', CHAIN);
    iptables('-F', CHAIN);
    iptables('-X', CHAIN);
  } catch {
    // never created (not root) or already gone
  }
  rmSync(stateDir, { recursive: true, force: true });
});

/** Waits until every replica has replayed what the primary has written so far. */
async function checkpointReplicated(env: Parameters<typeof withNode>[0]) {
  for (let i = 0; i < 100; i++) {
    const behind = await withNode(
      env,
      env.primary,
      { secret },
      async (c) =>
        (
          await c.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM pg_stat_replication WHERE replay_lsn < pg_current_wal_lsn()',
          )
        ).rows[0]!.n,
    );
    if (behind === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('replicas did not catch up');
}

/** The failed steps of a run, for the assertion's message. */
const failures = (runId: string) =>
  readJournal(journalPath(stateDir, runId)).events.flatMap((e) =>
    e.type === 'step-finished' && e.status === 'failed' ? [`${e.stepId}: ${e.error}`] : [],
  );

const seqsOn = (env: Parameters<typeof withNode>[0], node: string, runId: string) =>
  withNode(env, node, { secret }, async (c) => {
    const { rows } = await c.query<{ seq: number }>(`SELECT seq FROM ${PROBE_TABLE} WHERE run_id = $1`, [
      probeRowKey(runId, DEFAULT_CLIENT_PROFILE),
    ]);
    return new Set(rows.map((r) => r.seq));
  });

describe('RPO under asynchronous replication', () => {
  const lab = privateLab(13);

  it('the drill counts exactly the acknowledged rows that only the killed primary had', async (t) => {
    const l = lab(t);
    if (!l) return;
    if (process.getuid?.() !== 0) return t.skip('cutting the replication stream needs root (iptables)');
    const { env } = l;
    const primary = env.postgres.nodes[env.primary]!;
    // The probe's table must reach the replicas before the cut (the probe creates it if missing).
    await withNode(env, env.primary, { secret }, async (c) => {
      await c.query(
        `CREATE TABLE IF NOT EXISTS ${PROBE_TABLE} (run_id text NOT NULL, seq integer NOT NULL, sent_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (run_id, seq))`,
      );
    });
    await checkpointReplicated(env);
    // The walsenders' connections, by the replicas' client ports (replication and client traffic
    // both come from 127.0.0.1 on loopback; the ports tell them apart).
    const ports = await withNode(env, env.primary, { secret }, async (c) =>
      (await c.query<{ port: number }>('SELECT client_port AS port FROM pg_stat_replication')).rows.map(
        (r) => r.port,
      ),
    );
    assert.equal(ports.length, env.replicas.length);
    iptables('-N', CHAIN);
    iptables('-I', 'INPUT', '1', '-j', CHAIN);
    for (const port of ports) {
      iptables(
        '-A',
        CHAIN,
        '-s',
        primary.host,
        '-p',
        'tcp',
        '--sport',
        String(primary.port),
        '--dport',
        String(port),
        '-j',
        'DROP',
      );
    }

    const drill = join(stateDir, 'kill-async.yaml');
    writeFileSync(
      drill,
      `apiVersion: drillbook/v1\nkind: Drill\nmetadata: { name: kill-async }\nrunbook: ${process.cwd()}/runbooks/pg-failover.yaml\nenvironment: lab\nfault: { kind: kill-postgres, target: primary }\nobjectives: { rto: 1m, rpo: 100000 }\n`,
    );
    const outcome = await runDrill(
      { drillFile: drill, inventoryFile: l.inventoryPath, stateDir },
      { out: () => undefined, err: () => undefined },
    );
    iptables('-F', CHAIN);
    const f = outcome.figures!;
    // Without a restore runbook the lab stays failed over: that alone is the verdict's reason.
    assert.deepEqual(failures(outcome.runId), []);
    assert.match(outcome.reasons?.join('\n') ?? '', /^not restored \(the drill names no restore runbook\)/);
    assert.equal(outcome.reasons?.length, 1, outcome.reasons?.join('\n'));
    assert.ok(f.rpoRows > 0, 'acknowledged writes were lost: the stream was cut');
    assert.ok(f.rpoBytes !== undefined && f.rpoBytes > 0, 'and WAL past the promotion point with them');

    // The killed primary, started again on its own (the router no longer sends it clients).
    const pg1 = env.postgres.nodes.pg1!;
    await sshExec(env, pg1.ssh!, `'${pg1.binDir}/pg_ctl' start -w -D '${pg1.dataDir}' -l /dev/null`, {
      secret,
    });
    const onOld = await seqsOn(env, 'pg1', outcome.runId);
    const primaries = await Promise.all(
      env.replicas.map(async (n) =>
        (
          await withNode(env, n, { secret }, (c) =>
            c.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r'),
          )
        ).rows[0]!.r
          ? undefined
          : n,
      ),
    );
    const newPrimary = primaries.find((n): n is string => n !== undefined);
    assert.ok(newPrimary, 'one replica was promoted');
    const onNew = await seqsOn(env, newPrimary, outcome.runId);
    const onlyOld = [...onOld].filter((s) => !onNew.has(s)).sort((a, b) => a - b);
    // Every row the drill counts lost is there on the old primary only; the old primary may hold
    // one more: a commit flushed at the kill whose acknowledgement never left.
    for (const seq of f.lostSeqs)
      assert.ok(onlyOld.includes(seq), `lost row ${seq} is on the old primary only`);
    assert.ok(
      onlyOld.length - f.rpoRows >= 0 && onlyOld.length - f.rpoRows <= 1,
      `${onlyOld.length} rows only on the old primary, RPO ${f.rpoRows}`,
    );
  });
});
