// etcd for the Patroni lab: three members on loopback (v3 API), so losing one member is drillable.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { StepFailure } from '../errors.js';
import type { LabContext } from './context.js';
import type { PatroniLabConfig } from './patroni-options.js';
import { findProgram } from '../system/binaries.js';
import { portAnswers } from '../system/ports.js';
import { isLabProcess, logTail, spawnDetached, waitFor } from '../system/processes.js';

const CLUSTER_TOKEN = 'drillbook-lab';
const START_TIMEOUT_MS = 15_000;

export interface EtcdMember {
  name: string;
  host: string;
}

export const etcdMembers = (config: PatroniLabConfig): EtcdMember[] =>
  config.etcdHosts.map((host, i) => ({ name: `etcd${i + 1}`, host }));

/** host:port of every member's client endpoint, as Patroni's etcd3 section and the inventory list them. */
export const etcdEndpoints = (config: PatroniLabConfig): string[] =>
  config.etcdHosts.map((h) => `${h}:${config.etcdClientPort}`);

/** Starts every member that does not run; all start together because a member waits for its peers. */
export async function ensureEtcd(ctx: LabContext, config: PatroniLabConfig): Promise<void> {
  const etcd = findProgram('etcd', 'etcd-server');
  const members = etcdMembers(config);
  const initialCluster = members.map((m) => `${m.name}=http://${m.host}:${config.etcdPeerPort}`).join(',');
  const started = members.flatMap((m) => {
    const existing = ctx.state.components[m.name];
    if (existing && isLabProcess(existing.pid, ctx.paths.dir)) {
      ctx.report(`${m.name}: already running`);
      return [];
    }
    const dataDir = join(ctx.paths.dir, 'etcd', m.name);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const log = join(ctx.paths.logs, `${m.name}.log`);
    const client = `http://${m.host}:${config.etcdClientPort}`;
    // An existing data directory carries its membership: the initial-cluster flags are then ignored.
    const pid = spawnDetached(
      etcd,
      [
        '--name',
        m.name,
        '--data-dir',
        dataDir,
        '--listen-client-urls',
        client,
        '--advertise-client-urls',
        client,
        '--listen-peer-urls',
        `http://${m.host}:${config.etcdPeerPort}`,
        '--initial-advertise-peer-urls',
        `http://${m.host}:${config.etcdPeerPort}`,
        '--initial-cluster',
        initialCluster,
        '--initial-cluster-token',
        CLUSTER_TOKEN,
        '--initial-cluster-state',
        'new',
        // A member cut off from its peers keeps campaigning; without pre-vote it comes back with a
        // higher term, deposes the leader and stalls the DCS for seconds (Patroni then reads a stale
        // leader key from the returning member and the new leader demotes itself). etcd 3.5 defaults to it.
        '--pre-vote=true',
      ],
      { logFile: log },
    );
    ctx.record(m.name, {
      kind: 'etcd',
      pid,
      listen: [{ host: m.host, port: config.etcdClientPort }],
      created: true,
    });
    return [{ member: m, pid, log, restarted: existing !== undefined }];
  });
  await Promise.all(
    started.map(async ({ member, pid, log, restarted }) => {
      const healthy = () =>
        isLabProcess(pid, ctx.paths.dir) && memberHealthy(member.host, config.etcdClientPort);
      if (!(await waitFor(healthy, START_TIMEOUT_MS, 100))) {
        throw new StepFailure(
          `${member.name} did not become healthy on ${member.host}:${config.etcdClientPort}:\n${logTail(log)}`,
          { stepId: 'lab' },
        );
      }
      ctx.report(
        restarted
          ? `${member.name}: restarted (pid ${pid})`
          : `${member.name}: etcd member at ${member.host}:${config.etcdClientPort} (peers ${config.etcdPeerPort})`,
      );
    }),
  );
}

/** /health answers {"health":"true"} only once the member belongs to a cluster with a leader. */
async function memberHealthy(host: string, port: number): Promise<boolean> {
  if (!(await portAnswers(host, port))) return false;
  try {
    const response = await fetch(`http://${host}:${port}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await response.json()) as { health?: string };
    return body.health === 'true';
  } catch {
    return false;
  }
}
