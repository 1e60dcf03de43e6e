// Whole runbooks on a (private) lab, the way an operator runs them: `drillbook run RUNBOOK --env lab
// --inventory LAB --json --yes` through the CLI's own entry (runCommand), its NDJSON events parsed.
// Also the cluster facts the runbook tests and bench/failover.ts check after each run.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from 'pg';
import { connectPostgres, nodeEndpoint } from '../../src/connectors/postgres.js';
import { HaproxyRuntime, inventoryRouter } from '../../src/connectors/haproxy.js';
import { resolveSecretRef } from '../../src/connectors/secrets.js';
import { probeRoute } from '../../src/drill/probe-route.js';
import { runCommand } from '../../src/compose/commands.js';
import type { RunEvent } from '../../src/engine/events.js';
import { labStatus } from '../../src/lab/index.js';
import type { PrivateLab } from './private-lab.js';

type StepFinished = Extract<RunEvent, { type: 'step-finished' }>;
type RunFinished = Extract<RunEvent, { type: 'run-finished' }>;

export interface RunbookRun {
  code: number;
  events: RunEvent[];
  /** The main-phase step-finished event of each step that ran. */
  steps: Map<string, StepFinished>;
  finished: RunFinished | undefined;
  /** What the CLI printed on stderr (user errors). */
  stderr: string;
}

export async function runRunbook(
  lab: PrivateLab,
  runbook: string,
  o: {
    stateDir: string;
    set?: string[];
    /** Another inventory (a faulty copy) than the lab's. */ inventory?: string;
  },
): Promise<RunbookRun> {
  const events: RunEvent[] = [];
  const stderr: string[] = [];
  const io = {
    out: (text: string) => {
      for (const line of text.split('\n').filter(Boolean)) events.push(JSON.parse(line) as RunEvent);
    },
    err: (text: string) => stderr.push(text),
  };
  const code = await runCommand(
    {
      runbookFile: join('runbooks', runbook),
      envName: 'lab',
      inventoryFile: o.inventory ?? lab.inventoryPath,
      set: o.set,
      json: true,
      yes: true,
      stateDir: o.stateDir,
    },
    io,
  );
  const steps = new Map(
    events
      .filter((e): e is StepFinished => e.type === 'step-finished' && e.phase === 'main')
      .map((e) => [e.stepId, e]),
  );
  const finished = events.find((e): e is RunFinished => e.type === 'run-finished');
  return { code, events, steps, finished, stderr: stderr.join('\n') };
}

/** One line per failed step, for assertion messages. */
export const failures = (run: RunbookRun) =>
  [...run.steps.values()]
    .filter((s) => s.status === 'failed')
    .map((s) => `${s.stepId}: ${s.error}`)
    .concat(run.finished?.error ? [`run: ${run.finished.error}`] : [], run.stderr ? [run.stderr] : [])
    .join('\n');

/** SIGKILL of a node's postmaster (the PID from postmaster.pid): the primary dies without a checkpoint. */
export async function killPostmaster(lab: PrivateLab, node: string): Promise<void> {
  const dataDir = lab.environment.postgres.nodes[node]!.dataDir!;
  const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  process.kill(pid, 'SIGKILL');
  // Gone once signal 0 fails; the children notice the postmaster's death on their own.
  for (let i = 0; i < 500; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${node}'s postmaster (pid ${pid}) still runs after SIGKILL`);
}

/**
 * `drillbook lab status`: exactly one primary (`primary`), every other node up, a replica, its WAL
 * receiver streaming and listed as streaming by the primary; `down` nodes must not run (fenced).
 */
export async function assertCluster(lab: PrivateLab, primary: string, down: string[] = []): Promise<void> {
  const status = await labStatus(lab.dir);
  const nodes = status.components.filter((c) => c.kind === 'postgres');
  for (const c of status.components.filter((c) => c.kind !== 'postgres'))
    assert.ok(c.up, `${c.name} is not up`);
  const primaries = nodes.filter((n) => n.postgres?.role === 'primary').map((n) => n.name);
  assert.deepEqual(primaries, [primary], `primaries: ${primaries.join(', ')}`);
  const head = nodes.find((n) => n.name === primary)!;
  const senders = head.postgres!.replication as { name: string; state: string }[];
  for (const n of nodes.filter((n) => n.name !== primary)) {
    if (down.includes(n.name)) {
      assert.equal(n.running, false, `${n.name} should be down (fenced) but runs`);
      continue;
    }
    assert.ok(n.up, `${n.name} is not up`);
    assert.deepEqual(
      n.postgres && [n.postgres.role, n.postgres.replication],
      ['replica', 'streaming'],
      n.name,
    );
    assert.ok(
      senders.some((s) => s.name === n.name && s.state === 'streaming'),
      `${primary} does not stream to ${n.name}: ${JSON.stringify(senders)}`,
    );
  }
}

/** The address and port of the server a client reached. */
async function serverOf(client: Client): Promise<string> {
  const { rows } = await client.query<{ at: string }>(
    `SELECT host(inet_server_addr()) || ':' || inet_server_port() AS at`,
  );
  return rows[0]!.at;
}

/**
 * A row written through the route clients use (the router or the DNS name, as the drill probe
 * connects), acknowledged by the server it reached: that server's address:port.
 */
export async function writeVia(lab: PrivateLab, via: 'router' | 'dns', value: string): Promise<string> {
  const client = await probeRoute(lab.env, { via }, resolveSecretRef).connect(3000);
  try {
    await client.query(
      'CREATE TABLE IF NOT EXISTS ha_writes (id bigserial PRIMARY KEY, value text NOT NULL)',
    );
    await client.query('INSERT INTO ha_writes (value) VALUES ($1)', [value]);
    return await serverOf(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** address:port of a node, as serverOf reports it. */
export function addressOf(lab: PrivateLab, node: string): string {
  const { host, port } = nodeEndpoint(lab.environment, node);
  return `${host}:${port}`;
}

/** The values in ha_writes on a node (directly, not through a route). */
export async function valuesOn(lab: PrivateLab, node: string): Promise<Set<string>> {
  const client = await connectPostgres(nodeEndpoint(lab.environment, node), { secret: resolveSecretRef });
  try {
    const { rows } = await client.query<{ value: string }>('SELECT value FROM ha_writes');
    return new Set(rows.map((r) => r.value));
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The router's enabled servers that lead to a node (none once it is fenced or re-routed). */
export async function routedTo(lab: PrivateLab, node: string): Promise<string[]> {
  const router = inventoryRouter(lab.environment, 'main');
  const { host, port } = nodeEndpoint(lab.environment, node);
  const servers = await new HaproxyRuntime(router.socket).showServersState(router.backend);
  return servers
    .filter((s) => s.addr === host && s.port === port && s.admin !== 'maint')
    .map((s) => `${s.backend}/${s.server}`);
}
