// The Patroni lab (lab up --ha patroni --sync, ttl 8 / loop_wait 1 / retry_timeout 3) on private
// slot 18, driven through the patroni action: up and status, bad input, a switchover, one etcd
// member lost (no failover), a node crash observed with RPO 0, and lab down leaving no process;
// the patroni-switchover and patroni-failover-observed runbooks run through the CLI entry.
// The tests run in order on one lab: each starts from where the previous one left the cluster.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { parse } from 'yaml';
import { patroni } from '../../src/actions/patroni.js';
import { verify } from '../../src/actions/verify.js';
import type { ActionDefinition } from '../../src/actions/types.js';
import { patroniCluster, runningLeader } from '../../src/connectors/patroni.js';
import { livePostmasterPid } from '../../src/connectors/postmaster.js';
import { labDown, labStatus, labUp } from '../../src/lab/index.js';
import { labPaths, nodePaths } from '../../src/lab/paths.js';
import { readState } from '../../src/lab/state.js';
import type { Environment, Inventory } from '../../src/schema/inventory.js';
import { runAction } from '../helpers/action-context.js';
import { readSecret } from '../helpers/lab.js';
import { patroniLabDir, PATRONI_LAB_OPTIONS, PATRONI_TTL_MS } from '../helpers/patroni-lab.js';
import type { PrivateLab } from '../helpers/private-lab.js';
import { failures, runRunbook } from '../helpers/runbook-run.js';

const OPTIONS = PATRONI_LAB_OPTIONS;
const TTL_MS = PATRONI_TTL_MS;
const labDir = patroniLabDir();
const { parent, dir } = labDir;
let env: Environment | undefined;
let upMs = 0;
const stateDir = join(parent, 'state');
/** What runRunbook reads of a lab: its inventory. */
const asRunbookLab = () => ({ inventoryPath: join(dir, 'inventory.yaml') }) as PrivateLab;

const lab = (): Environment => {
  if (!env) throw new Error('the Patroni lab did not come up (see the first test)');
  return env;
};
const act = (action: unknown, input: unknown) => runAction(action as ActionDefinition, lab(), input);
const api = () => ({
  urls: lab().ha!.rest.urls,
  auth: { username: lab().ha!.rest.username!, password: readSecret(lab().ha!.rest.password) },
});
const leaderNow = async () => runningLeader(await patroniCluster(api()));
const client = (host = '127.0.0.1', port = OPTIONS.routerPort!) =>
  new pg.Client({
    host,
    port,
    user: lab().postgres.user,
    password: readSecret(lab().postgres.password),
    database: lab().postgres.database,
    connectionTimeoutMillis: 1000,
  });
async function query<T extends pg.QueryResultRow>(sql: string, host?: string, port?: number): Promise<T[]> {
  const c = client(host, port);
  try {
    await c.connect();
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end().catch(() => undefined);
  }
}
/** PIDs of processes whose command line mentions the lab directory. */
function labProcesses(): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .flatMap((p) => {
      try {
        const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ');
        return cmd.includes(dir) ? [`${p} ${cmd.trim()}`] : [];
      } catch {
        return [];
      }
    });
}

describe('the Patroni lab (lab up --ha patroni --sync, ttl 8)', () => {
  before(async () => {
    const started = performance.now();
    await labUp({ ...OPTIONS, dir });
    upMs = performance.now() - started;
    const inventory = parse(readFileSync(join(dir, 'inventory.yaml'), 'utf8')) as Inventory;
    env = inventory.environments.lab;
  });
  after(() => labDir.remove());

  test('comes up in under 40 s with pg1 leading, a sync standby, and HAProxy routing to the leader', async (t) => {
    t.diagnostic(`lab up took ${Math.round(upMs)} ms`);
    assert.ok(upMs < 40_000, `lab up took ${Math.round(upMs)} ms`);
    const status = await labStatus(dir);
    assert.ok(status.allUp, JSON.stringify(status.components.filter((c) => !c.up)));
    const members = status.patroni?.cluster?.members ?? [];
    assert.deepEqual(
      members.map((m) => [m.name, m.state]),
      [
        ['pg1', 'running'],
        ['pg2', 'running'],
        ['pg3', 'running'],
      ],
    );
    assert.equal(members.find((m) => m.role === 'leader')?.name, 'pg1');
    assert.equal(members.filter((m) => m.role === 'sync_standby').length, 1);
    assert.equal(lab().ha?.manager, 'patroni');
    assert.deepEqual(lab().ha?.dcs?.endpoints.length, 3);
    const [row] = await query<{ addr: string }>('SELECT host(inet_server_addr()) AS addr');
    assert.equal(row?.addr, lab().postgres.nodes.pg1!.host);
    const checked = await act(verify, { check: 'patroni', maxLag: 0 });
    assert.equal(checked.leader, 'pg1');
  });

  test('bad input: a non-member candidate, missing credentials (401) and a refused reinit (503) fail in one line', async () => {
    await assert.rejects(
      act(patroni, { op: 'switchover', candidate: 'pg9' }),
      /^StepFailure: step test: candidate pg9 is not a member of the Patroni cluster \(members: pg1, pg2, pg3\)$/,
    );
    const anonymous = { ...lab(), ha: { ...lab().ha!, rest: { urls: lab().ha!.rest.urls } } };
    await assert.rejects(
      runAction(patroni as unknown as ActionDefinition, anonymous, { op: 'pause' }),
      (err: Error) => {
        assert.match(
          err.message,
          /^patroni pg1 http:\/\/[\d.]+:16588\/config: PATCH answered HTTP 401: no auth header received$/,
        );
        return true;
      },
    );
    await assert.rejects(act(patroni, { op: 'reinit', member: 'pg1' }), (err: Error) => {
      assert.match(
        err.message,
        /\/reinitialize: POST answered HTTP 503: I am the leader, can not reinitialize$/,
      );
      assert.equal(err.message.split('\n').length, 1);
      return true;
    });
    assert.equal((await leaderNow())?.name, 'pg1', 'nothing changed');
  });

  test('pause, resume, restart and reinit through Patroni; verify refuses a paused cluster', async () => {
    assert.equal((await act(patroni, { op: 'pause' })).paused, true);
    await assert.rejects(act(verify, { check: 'patroni' }), /the cluster is paused/);
    assert.equal((await act(patroni, { op: 'resume' })).paused, false);
    const restarted = await act(patroni, { op: 'restart', member: 'pg2' });
    assert.equal(restarted.message, 'restarted successfully');
    const reinit = await act(patroni, { op: 'reinit', member: 'pg2' });
    assert.equal(reinit.message, 'reinitialize started');
    // The rebuilt replica streams again within a few loops; the leader never changed.
    const deadline = Date.now() + 30_000;
    let last: unknown;
    for (;;) {
      last = await act(verify, { check: 'patroni', maxLag: 0 }).catch((err: Error) => err);
      if (!(last instanceof Error) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(!(last instanceof Error), String(last));
    assert.equal((last as { leader: string }).leader, 'pg1');
  });

  test('switchover to the sync standby: Patroni promotes it on a new timeline and HAProxy follows', async () => {
    const before = (await patroniCluster(api())).members;
    const candidate = before.find((m) => m.role === 'sync_standby')!.name;
    const out = await act(patroni, { op: 'switchover', candidate });
    assert.equal(out.previous, 'pg1');
    assert.equal(out.leader, candidate);
    assert.ok((out.timeline as number) > (before.find((m) => m.name === 'pg1')!.timeline ?? 1));
    const host = lab().postgres.nodes[candidate]!.host;
    const deadline = Date.now() + 5000;
    let routed = '';
    while (Date.now() < deadline && routed !== host) {
      routed = await query<{ addr: string }>('SELECT host(inet_server_addr()) AS addr')
        .then((r) => r[0]!.addr)
        .catch(() => '');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(routed, host, 'HAProxy routes writes to the new leader');
  });

  test('the patroni-switchover runbook hands the leader over and clients follow', async () => {
    const before = (await leaderNow())!;
    const run = await runRunbook(asRunbookLab(), 'patroni-switchover.yaml', { stateDir });
    assert.equal(run.code, 0, `${failures(run)}\n${run.stderr}`);
    const out = run.steps.get('switchover')!.outputs;
    assert.equal(out.previous, before.name);
    assert.notEqual(out.leader, before.name);
    assert.equal(run.steps.get('validate')!.status, 'succeeded');
    assert.equal(run.steps.get('dns')!.status, 'succeeded');
    assert.equal((await leaderNow())?.name, out.leader);
  });

  test('one etcd member lost: no failover for two ttl, then lab up repairs it', async () => {
    const leader = (await leaderNow())!;
    const paths = labPaths(dir);
    const member = `etcd${leader.name.slice(2)}`; // the etcd member on the leader's own address
    const pid = readState(paths.state)!.components[member]!.pid!;
    process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + 2 * TTL_MS;
    const seen = new Set<string>();
    while (Date.now() < deadline) {
      const now = await leaderNow().catch(() => undefined);
      seen.add(now ? `${now.name}@${now.timeline}` : 'none');
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual([...seen], [`${leader.name}@${leader.timeline}`], 'the leader never changed');
    await labUp({ ...OPTIONS, dir });
    const status = await labStatus(dir);
    assert.ok(status.components.find((c) => c.name === member)?.up, `${member} is back`);
  });

  test('node crash (SIGKILL of Patroni and PostgreSQL on the leader), observed by patroni-failover-observed: RPO 0', async (t) => {
    const leader = (await leaderNow())!.name;
    const c = client();
    await c.connect();
    await c.query('CREATE TABLE IF NOT EXISTS crash_probe (id int PRIMARY KEY)');
    await c.end();
    // Writes through HAProxy until the crash; each acknowledged id must survive the failover.
    const acked: number[] = [];
    let writer: pg.Client | undefined;
    let stop = false;
    const writes = (async () => {
      for (let id = 1; !stop; id++) {
        try {
          if (!writer) {
            writer = client();
            // A killed server ends the connection with an error event: the next write reconnects.
            writer.on('error', () => undefined);
            await writer.connect();
          }
          await writer.query('INSERT INTO crash_probe VALUES ($1)', [id]);
          acked.push(id);
        } catch {
          await writer?.end().catch(() => undefined);
          writer = undefined;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      await writer?.end().catch(() => undefined);
    })();
    while (acked.length < 50) await new Promise((r) => setTimeout(r, 20));
    const paths = labPaths(dir);
    const patroniPid = readState(paths.state)!.components[`patroni-${leader}`]!.pid!;
    const postmaster = livePostmasterPid(nodePaths(paths, leader).data)!;
    const killedAt = Date.now();
    process.kill(patroniPid, 'SIGKILL');
    process.kill(postmaster, 'SIGKILL');
    const ackedBeforeCrash = acked.length;
    try {
      const run = await runRunbook(asRunbookLab(), 'patroni-failover-observed.yaml', {
        stateDir,
        set: [`leader=${leader}`],
      });
      assert.equal(run.code, 0, `${failures(run)}\n${run.stderr}`);
      const out = run.steps.get('elected')!.outputs;
      const rtoMs = Date.parse(out.at as string) - killedAt;
      t.diagnostic(`${out.leader as string} seen leading ${rtoMs} ms after the crash of ${leader}`);
      assert.notEqual(out.leader, leader);
      // ttl 8: the leader key expires at most 8 s after the last renewal, then one loop and a promotion.
      assert.ok(rtoMs < 2 * TTL_MS, `new leader seen ${rtoMs} ms after the crash`);
      // Clients are back once a write through HAProxy lands on the new leader.
      const until = Date.now() + 10_000;
      while (acked.length === ackedBeforeCrash || acked.at(-1)! <= ackedBeforeCrash) {
        if (Date.now() > until) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      stop = true;
      await writes;
    }
    const newLeader = (await leaderNow())!.name;
    const node = lab().postgres.nodes[newLeader]!;
    const [row] = await query<{ n: string }>(
      `SELECT count(*) AS n FROM crash_probe WHERE id = ANY('{${acked.join(',')}}'::int[])`,
      node.host,
      node.port,
    );
    assert.ok(acked.length > ackedBeforeCrash, 'writes resumed through HAProxy');
    t.diagnostic(`${acked.length} writes acknowledged through HAProxy, ${row!.n} of them on ${newLeader}`);
    assert.equal(
      Number(row!.n),
      acked.length,
      `RPO: ${acked.length - Number(row!.n)} acknowledged rows lost`,
    );
  });

  test('lab down leaves no Patroni, etcd or PostgreSQL process', async () => {
    assert.ok(labProcesses().length > 0, 'the lab runs processes before lab down');
    const result = await labDown(dir);
    assert.ok(result.stopped.some((s) => s.startsWith('patroni-')));
    assert.ok(result.stopped.some((s) => s.startsWith('etcd')));
    assert.deepEqual(labProcesses(), []);
  });
});
