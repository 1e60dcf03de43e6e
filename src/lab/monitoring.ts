// lab up --monitoring: a PostgreSQL exporter per node, Prometheus, Alertmanager and a `drillbook
// serve` for the lab, each a detached lab process on loopback (the binaries of Debian's packages,
// started with their own configs: no init script, no systemd), data under <lab>/monitoring.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { StepFailure } from '../errors.js';
import type { Endpoint } from '../system/ports.js';
import { portAnswers } from '../system/ports.js';
import { isLabProcess, logTail, spawnDetached, waitFor } from '../system/processes.js';
import {
  LAB_DATABASE,
  LAB_SLACK_APPROVER,
  LAB_USER,
  type LabConfig,
  type MonitoringConfig,
} from './config.js';
import type { WebUi } from '../schema/triggers.js';
import { slackApiUrl } from './slack.js';
import type { LabContext } from './context.js';
import { LAB_ENVIRONMENT } from './inventory.js';
import {
  EXPORTER_QUERIES,
  PROMETHEUS_RULES,
  alertmanagerConfig,
  prometheusConfig,
  serveUrl,
} from './monitoring-config.js';
import { secretPath } from './secrets.js';
import type { ComponentKind, ListenAddress } from './state.js';

export const PROMETHEUS = 'prometheus';
export const ALERTMANAGER = 'alertmanager';
export const SERVE = 'serve';
export const exporterComponent = (node: string) => `exporter-${node}`;

const BINARIES = {
  exporter: '/usr/bin/prometheus-postgres-exporter',
  prometheus: '/usr/bin/prometheus',
  alertmanager: '/usr/bin/prometheus-alertmanager',
};

/** Prometheus replays its WAL and Node loads the CLI: both take a few seconds on a busy machine. */
const START_TIMEOUT_MS = 30_000;

/** name and kind of each monitoring component (none without --monitoring). */
export function monitoringComponents(config: LabConfig): [string, ComponentKind][] {
  if (!config.monitoring) return [];
  return [
    ...config.nodes.map((n): [string, ComponentKind] => [exporterComponent(n.name), 'postgres-exporter']),
    [PROMETHEUS, 'prometheus'],
    [ALERTMANAGER, 'alertmanager'],
    [SERVE, 'serve'],
  ];
}

/** What each monitoring component listens on (for lab up's check that the ports are free). */
export function monitoringEndpoints(config: LabConfig): [string, Endpoint[]][] {
  const m = config.monitoring;
  if (!m) return [];
  const host = config.serviceHost;
  return [
    ...config.nodes.map((n): [string, Endpoint[]] => [
      exporterComponent(n.name),
      [{ host: n.host, port: m.exporterPort, purpose: `the exporter of ${n.name} (--pg-port + 9)` }],
    ]),
    [PROMETHEUS, [{ host, port: m.prometheusPort, purpose: 'Prometheus (--pg-port + 6)' }]],
    [ALERTMANAGER, [{ host, port: m.alertmanagerPort, purpose: 'Alertmanager (--pg-port + 7)' }]],
    [SERVE, [{ host, port: m.servePort, purpose: "the lab's drillbook serve (--pg-port + 8)" }]],
  ];
}

/** Starts what is not running; the serve last, since it reads the inventory lab up just wrote. */
export async function ensureMonitoring(ctx: LabContext): Promise<void> {
  const m = ctx.config.monitoring;
  if (!m) return;
  const dir = ctx.paths.monitoring;
  for (const d of [dir, join(dir, 'prometheus'), join(dir, 'alertmanager'), ctx.paths.serve])
    mkdirSync(d, { recursive: true, mode: 0o700 });
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text, { mode: 0o600 });
    return join(dir, name);
  };
  const queries = file('exporter-queries.yaml', EXPORTER_QUERIES);
  const rules = file('rules.yml', PROMETHEUS_RULES);
  const promConfig = file('prometheus.yml', prometheusConfig(ctx.config, m, LAB_ENVIRONMENT, rules));
  const tokenFile = secretPath(ctx.paths.secrets, 'alertmanagerToken');
  const amConfig = file(
    'alertmanager.yml',
    alertmanagerConfig(`${serveUrl(ctx.config)}/hooks/alertmanager`, tokenFile),
  );
  writeLabTriggers(ctx);
  const host = ctx.config.serviceHost;
  const exporters = ctx.config.nodes.map((n) =>
    ensureDaemon(
      ctx,
      exporterComponent(n.name),
      'postgres-exporter',
      { host: n.host, port: m.exporterPort },
      [
        BINARIES.exporter,
        `--web.listen-address=${n.host}:${m.exporterPort}`,
        `--extend.query-path=${queries}`,
        '--disable-settings-metrics',
        '--log.level=warn',
      ],
      {
        DATA_SOURCE_URI: `${n.host}:${n.port}/${LAB_DATABASE}?sslmode=disable&connect_timeout=1`,
        DATA_SOURCE_USER: LAB_USER,
        DATA_SOURCE_PASS_FILE: secretPath(ctx.paths.secrets, 'postgresPassword'),
      },
    ),
  );
  await Promise.all([
    ...exporters,
    ensureDaemon(ctx, PROMETHEUS, 'prometheus', { host, port: m.prometheusPort }, [
      BINARIES.prometheus,
      `--config.file=${promConfig}`,
      `--storage.tsdb.path=${join(dir, 'prometheus')}`,
      `--web.listen-address=${host}:${m.prometheusPort}`,
      '--storage.tsdb.retention.time=1d',
      '--log.level=warn',
    ]),
    ensureDaemon(ctx, ALERTMANAGER, 'alertmanager', { host, port: m.alertmanagerPort }, [
      BINARIES.alertmanager,
      `--config.file=${amConfig}`,
      `--storage.path=${join(dir, 'alertmanager')}`,
      `--web.listen-address=${host}:${m.alertmanagerPort}`,
      // One Alertmanager, no gossip port to collide with another lab's.
      '--cluster.listen-address=',
      '--log.level=warn',
    ]),
  ]);
  await ensureDaemon(ctx, SERVE, 'serve', { host, port: m.servePort }, [
    process.execPath,
    cliEntry(),
    'serve',
    '--listen',
    `${host}:${m.servePort}`,
    '--triggers',
    ctx.paths.triggers,
    '--inventory',
    ctx.paths.inventory,
    '--state-dir',
    ctx.paths.serve,
    '--reports-dir',
    join(ctx.paths.serve, 'reports'),
  ]);
  ctx.report(
    `serve: web UI at ${serveUrl(ctx.config)}/ (sign in with ${secretPath(ctx.paths.secrets, 'webUiToken')})`,
  );
  await pointSlackAtServe(ctx);
  await awaitScrapes(ctx, m);
}

/** The lab's Slack endpoint sends approval clicks to the lab's serve (Slack's "request URL"). */
async function pointSlackAtServe(ctx: LabContext): Promise<void> {
  const res = await fetch(`${slackApiUrl(ctx).replace(/\/api\/$/, '')}/_control/interactivity`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ctx.secrets.slackToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: `${serveUrl(ctx.config)}/hooks/slack/actions` }),
  });
  if (!res.ok) throw new StepFailure(`the lab's Slack endpoint refused the request URL: HTTP ${res.status}`);
}

/**
 * Prometheus applies its scrape targets a few seconds after it starts: until every exporter has
 * been scraped the lab cannot notice anything, so lab up returns only once it can (a drill right
 * after it would otherwise measure Prometheus's start, not detection).
 */
async function awaitScrapes(ctx: LabContext, m: MonitoringConfig): Promise<void> {
  const url = `http://${ctx.config.serviceHost}:${m.prometheusPort}/api/v1/targets`;
  const scraped = async () => {
    try {
      const body = (await (await fetch(url)).json()) as { data: { activeTargets: { health: string }[] } };
      const targets = body.data.activeTargets;
      return targets.length === ctx.config.nodes.length && targets.every((t) => t.health === 'up');
    } catch {
      return false;
    }
  };
  if (!(await waitFor(scraped, START_TIMEOUT_MS, 250)))
    throw new StepFailure(`Prometheus does not scrape every exporter (${url})`, { stepId: 'lab' });
  ctx.report('prometheus: every exporter scraped');
}

/** Starts one daemon unless it runs, records it, and waits until its port answers. */
async function ensureDaemon(
  ctx: LabContext,
  name: string,
  kind: ComponentKind,
  listen: ListenAddress,
  [command, ...args]: string[],
  env?: NodeJS.ProcessEnv,
): Promise<void> {
  const existing = ctx.state.components[name];
  if (existing && isLabProcess(existing.pid, ctx.paths.dir)) {
    ctx.report(`${name}: already running`);
    return;
  }
  if (!existsSync(command!))
    throw new StepFailure(`${command} is missing: scripts/install-system-deps.sh installs it`, {
      stepId: 'lab',
    });
  const log = join(ctx.paths.logs, `${name}.log`);
  const pid = spawnDetached(command!, args, { logFile: log, env });
  ctx.record(name, { kind, pid, listen: [listen], created: true });
  const up = () => isLabProcess(pid, ctx.paths.dir) && portAnswers(listen.host, listen.port);
  if (!(await waitFor(up, START_TIMEOUT_MS)))
    throw new StepFailure(`${name} did not start on ${listen.host}:${listen.port}:\n${logTail(log)}`, {
      stepId: 'lab',
    });
  ctx.report(`${name}: ${existing ? 'restarted' : 'started'} on ${listen.host}:${listen.port} (pid ${pid})`);
}

/**
 * The lab's triggers: examples/triggers.yaml with the lab's receiver token (a file: reference to
 * the lab's secret, as the inventory's), its inventory, and runbook paths made absolute; the web UI
 * signs in the lab's Slack approver with the lab's web-ui-token.
 */
function writeLabTriggers(ctx: LabContext): void {
  const example = join(packageRoot(), 'examples', 'triggers.yaml');
  const doc = parse(readFileSync(example, 'utf8')) as {
    inventory?: string;
    receiver: { token: string };
    triggers: { runbook: string; onResolved?: string }[];
    ui?: WebUi;
  };
  const absolute = (p: string) => resolve(dirname(example), p);
  doc.inventory = ctx.paths.inventory;
  doc.receiver.token = `file:${secretPath(ctx.paths.secrets, 'alertmanagerToken')}`;
  for (const t of doc.triggers) {
    t.runbook = absolute(t.runbook);
    if (t.onResolved) t.onResolved = absolute(t.onResolved);
  }
  doc.ui = {
    drills: join(packageRoot(), 'drills'),
    users: [
      {
        id: LAB_SLACK_APPROVER,
        name: 'lab-operator',
        token: `file:${secretPath(ctx.paths.secrets, 'webUiToken')}`,
      },
    ],
  };
  const header = `# Written by \`drillbook lab up --monitoring\` from ${example}.\n`;
  writeFileSync(ctx.paths.triggers, header + stringify(doc), { mode: 0o600 });
}

/** The package's root (examples/, bin/): above this module, in src/ (tsx) or dist/. */
function packageRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir))
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'examples'))) return dir;
  throw new StepFailure('cannot find the drillbook package (its examples/ directory)', { stepId: 'lab' });
}

/** The CLI the serve runs: the package's bin/drillbook.js (it loads dist/: npm run build). */
function cliEntry(): string {
  const entry = join(packageRoot(), 'bin', 'drillbook.js');
  if (!existsSync(entry))
    throw new StepFailure(`cannot find ${entry} for the lab's serve; run npm run build`, { stepId: 'lab' });
  return entry;
}
