// The lab's public face: labUp, labStatus, labDown, labEnvPath.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { StepFailure, UserError } from '../errors.js';
import { findTools } from './tools.js';
import { assertSameShape, labDir, resolveLabConfig, type LabConfig, type LabUpOptions } from './config.js';
import type { LabContext } from './context.js';
import { ensureHaproxy, HAPROXY } from './haproxy.js';
import { healDrillFaults } from './heal-faults.js';
import { labInventory, writeInventory } from './inventory.js';
import { serviceUser as findServiceUser } from '../system/os-user.js';
import { labPaths, nodePaths, type LabPaths } from './paths.js';
import { assertPortsFree, portAnswers, type Endpoint } from '../system/ports.js';
import { ensurePowerdns, POWERDNS } from './powerdns.js';
import { ensurePrimary, ensureReplica, finishReplication, postmasterPid, stopNode } from './postgres.js';
import { nodeStatus, type NodeStatus } from './node-status.js';
import { ensureStanza } from './pgbackrest.js';
import { notOwnDir } from '../system/own-dir.js';
import { isLabProcess, stopProcess } from '../system/processes.js';
import { ensureSecrets, secretPath } from './secrets.js';
import { placeLabDir, removePlacementLink } from './placement.js';
import { ensurePatroniCluster, patroniComponents, patroniEndpoints, patroniStatus } from './patroni.js';
import { ensureSlack, SLACK } from './slack.js';
import { ensureMonitoring, monitoringComponents, monitoringEndpoints } from './monitoring.js';
import { ensureSshd, SSHD } from './sshd.js';
import { readState, writeState, type ComponentState, type LabState } from './state.js';
import { treeLevels } from '../schema/inventory.js';
import { replicationTree, type ReplicationTree } from './tree.js';

export type { LabUpOptions } from './config.js';
export { DEFAULT_LAB_DIR } from './config.js';

export interface LabUpResult {
  dir: string;
  inventory: string;
  lines: string[];
}

/** Brings the lab up, or repairs it: running components are kept, dead ones restarted, missing ones built. */
export async function labUp(
  options: LabUpOptions = {},
  report: (line: string) => void = () => undefined,
): Promise<LabUpResult> {
  const serviceUser = findServiceUser();
  const placement = await placeLabDir(labDir(options.dir), serviceUser);
  const dir = placement.dir;
  const paths = labPaths(dir);
  assertUsableDir(dir, paths);
  const previous = readState(paths.state);
  if (previous) assertSameShape(previous.config, options, dir);
  const config = previous?.config ?? resolveLabConfig(options);
  const tools = findTools(options.pgBinDir ?? previous?.pgBinDir);
  assertSocketPathsFit(paths, config);
  await assertPortsFree(endpointsToFree(paths, config, previous));

  placement.apply();
  mkdirSync(paths.logs, { recursive: true, mode: 0o755 });
  const state: LabState = previous ?? {
    version: 1,
    dir,
    config,
    serviceUser,
    pgBinDir: tools.pgBinDir,
    components: {},
  };
  writeState(paths.state, state);
  const lines: string[] = [];
  const ctx: LabContext = {
    config,
    paths,
    tools,
    serviceUser,
    secrets: ensureSecrets(paths.secrets),
    state,
    record: (name, component) => {
      state.components[name] = component;
      writeState(paths.state, state);
    },
    report: (line) => {
      lines.push(line);
      report(line);
    },
  };
  await healDrillFaults(paths, config, ctx.report);
  const [primary] = config.nodes;
  if (!primary) throw new UserError('a lab needs at least one node');
  const byName = new Map(config.nodes.map((n) => [n.name, n]));
  const drillbookPostgres = async () => {
    let built = await ensurePrimary(ctx, primary);
    if (built && config.archive?.tool === 'pgbackrest') await ensureStanza(ctx);
    // Level by level: a cascaded replica is cloned from its upstream, which must run first.
    for (const level of treeLevels(config.upstreams, primary.name)) {
      const results = await Promise.all(
        level.map((r) => ensureReplica(ctx, byName.get(r)!, byName.get(config.upstreams[r]!)!)),
      );
      built ||= results.some(Boolean);
    }
    // Only a freshly built topology is waited for: after a drill's failover, pg1 may no longer lead.
    if (built) await finishReplication(ctx, primary);
  };
  const patroni = config.patroni;
  const postgres = patroni ? () => ensurePatroniCluster(ctx, patroni) : drillbookPostgres;
  // Everything starts together; all are awaited so a failure leaves no half-recorded component.
  const results = await Promise.allSettled([
    postgres(),
    ensureSshd(ctx),
    ensureHaproxy(ctx, primary),
    ensurePowerdns(ctx, primary),
    ensureSlack(ctx),
  ]);
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length > 0) {
    const messages = failures.map((f) => (f instanceof Error ? f.message : String(f))).join('\n');
    throw new StepFailure(
      `lab up did not finish:\n${messages}\nWhat started is recorded in ${paths.state}: run lab up again to repair it, or lab down to remove it.`,
      { stepId: 'lab' },
    );
  }
  writeInventory(paths.inventory, labInventory(ctx));
  await ensureMonitoring(ctx);
  return { dir, inventory: paths.inventory, lines };
}

export interface ComponentStatus {
  name: string;
  kind: ComponentState['kind'];
  pid?: number;
  running: boolean;
  answering: boolean;
  up: boolean;
  listen: ComponentState['listen'];
  postgres?: NodeStatus;
}

export type PatroniStatus = Awaited<ReturnType<typeof patroniStatus>>;

export interface LabStatus {
  dir: string;
  exists: boolean;
  inventory?: string;
  allUp: boolean;
  components: ComponentStatus[];
  /** Patroni's own view (GET /cluster) in a lab made with --ha patroni. */
  patroni?: PatroniStatus;
  /** Absent when there is no lab. */
  tree?: ReplicationTree;
}

/** Each component is up when its PID runs AND its ports answer; PostgreSQL adds role and replication. */
export async function labStatus(dirOption?: string): Promise<LabStatus> {
  const dir = labDir(dirOption);
  const paths = labPaths(dir);
  const state = readState(paths.state);
  if (!state) return { dir, exists: false, allUp: false, components: [] };
  const password = readSecretQuietly(paths);
  const components = await Promise.all(
    expectedComponents(state.config).map(async ([name, kind]): Promise<ComponentStatus> => {
      const recorded = state.components[name];
      const listen = recorded?.listen ?? [];
      const pid = livePid(paths, name, recorded);
      const answering =
        listen.length > 0 &&
        (await Promise.all(listen.map((l) => portAnswers(l.host, l.port)))).every(Boolean);
      const node = state.config.nodes.find((n) => n.name === name);
      const pgStatus = node && pid && answering && password ? await nodeStatus(node, password) : undefined;
      return {
        name,
        kind,
        pid,
        running: pid !== undefined,
        answering,
        up: pid !== undefined && answering,
        listen,
        postgres: pgStatus,
      };
    }),
  );
  const inventory = existsSync(paths.inventory) ? paths.inventory : undefined;
  const patroni = await patroniStatus(state.config);
  const tree = replicationTree(state.config, new Map(components.map((c) => [c.name, c.postgres])));
  return { dir, exists: true, inventory, allUp: components.every((c) => c.up), components, patroni, tree };
}

export interface LabDownResult {
  dir: string;
  existed: boolean;
  stopped: string[];
}

/** Stops every process the lab started, by PID, waits for each to exit, then removes the lab directory. */
export async function labDown(dirOption?: string): Promise<LabDownResult> {
  const dir = labDir(dirOption);
  const paths = labPaths(dir);
  if (!existsSync(dir)) return { dir, existed: false, stopped: [] };
  assertUsableDir(dir, paths);
  const state = readState(paths.state);
  if (!state) {
    throw new UserError(
      `${dir} has no state.json, so it is not a drillbook lab (or was never started); refusing to remove it`,
    );
  }
  const stopped: string[] = [];
  const stop = async ([name, component]: [string, ComponentState]) => {
    const pid = livePid(paths, name, component);
    if (!pid) return;
    if (component.kind === 'postgres') await stopNode(paths, name);
    // etcd's raft leader would spend ~7 s handing leadership to peers that are stopping too; the
    // DCS goes away with the lab, so its members are killed outright.
    else await stopProcess(pid, dir, component.kind === 'etcd' ? 'SIGKILL' : 'SIGTERM', 10_000);
    stopped.push(`${name} (pid ${pid})`);
  };
  // Patroni goes first: it would restart a PostgreSQL stopped under it.
  const components = Object.entries(state.components);
  await Promise.all(components.filter(([, c]) => c.kind === 'patroni').map(stop));
  await Promise.all(components.filter(([, c]) => c.kind !== 'patroni').map(stop));
  rmSync(dir, { recursive: true, force: true });
  removePlacementLink(dirOption);
  return { dir, existed: true, stopped: stopped.sort() };
}

/** The inventory of the lab in dir; an error when that lab was never brought up. */
export function labEnvPath(dirOption?: string): string {
  const paths = labPaths(labDir(dirOption));
  if (!existsSync(paths.inventory)) {
    throw new UserError(
      `no lab inventory at ${paths.inventory}; run drillbook lab up${dirOption ? ` --dir ${dirOption}` : ''} first`,
    );
  }
  return paths.inventory;
}

function expectedComponents(config: LabConfig): [string, ComponentState['kind']][] {
  return [
    ...config.nodes.map((n): [string, ComponentState['kind']] => [n.name, 'postgres']),
    [SSHD, 'sshd'],
    [HAPROXY, 'haproxy'],
    [POWERDNS, 'powerdns'],
    [SLACK, 'slack'],
    ...patroniComponents(config),
    ...monitoringComponents(config),
  ];
}

function livePid(paths: LabPaths, name: string, component: ComponentState | undefined): number | undefined {
  if (!component) return undefined;
  if (component.kind === 'postgres') return postmasterPid(paths, name);
  return isLabProcess(component.pid, paths.dir) ? component.pid : undefined;
}

/** Ports of the components that do not run yet; running ones legitimately hold theirs. */
function endpointsToFree(paths: LabPaths, config: LabConfig, state: LabState | undefined): Endpoint[] {
  const running = (name: string) => livePid(paths, name, state?.components[name]) !== undefined;
  const { serviceHost: host } = config;
  const wanted: [string, Endpoint[]][] = [
    ...config.nodes.map((n): [string, Endpoint[]] => [
      n.name,
      [{ host: n.host, port: n.port, purpose: `PostgreSQL ${n.name}` }],
    ]),
    [SSHD, config.nodes.map((n) => ({ host: n.host, port: config.sshPort, purpose: `sshd of ${n.name}` }))],
    [HAPROXY, [{ host, port: config.routerPort, purpose: 'the HAProxy write frontend (--router-port)' }]],
    [
      POWERDNS,
      [
        { host, port: config.dnsPort, purpose: 'PowerDNS DNS (--dns-port)', udp: true },
        { host, port: config.dnsApiPort, purpose: 'the PowerDNS API (--dns-api-port)' },
      ],
    ],
    [SLACK, [{ host, port: config.slackPort, purpose: 'the Slack endpoint (--slack-port)' }]],
    ...patroniEndpoints(config),
    ...monitoringEndpoints(config),
  ];
  return wanted.filter(([name]) => !running(name)).flatMap(([, endpoints]) => endpoints);
}

/** The lab directory must be ours alone, and either absent, empty, or a lab (it has state.json). */
function assertUsableDir(dir: string, paths: LabPaths): void {
  const problem = notOwnDir(dir);
  if (problem) throw new UserError(`${problem}; use your own --dir (or run as its owner)`);
  if (existsSync(dir) && !existsSync(paths.state) && readdirSync(dir).length > 0) {
    throw new UserError(
      `${dir} is not empty and has no state.json, so it is not a drillbook lab; remove it or choose another --dir`,
    );
  }
}

/** Unix socket paths are limited to 107 bytes; a deep --dir would fail late and obscurely. */
function assertSocketPathsFit(paths: LabPaths, config: LabConfig): void {
  const longest = Math.max(
    paths.haproxySocket.length,
    ...config.nodes.map((n) => `${nodePaths(paths, n.name).socket}/.s.PGSQL.${n.port}.lock`.length),
  );
  if (longest > 107) {
    throw new UserError(
      `the lab directory ${paths.dir} is too deep for Unix socket paths (${longest} > 107 bytes); choose a shorter --dir`,
    );
  }
}

function readSecretQuietly(paths: LabPaths): string | undefined {
  try {
    return readFileSync(secretPath(paths.secrets, 'postgresPassword'), 'utf8').trim();
  } catch {
    return undefined;
  }
}
