// `drillbook lab up|status|down|env`: the local staging lab.
import { Command } from '@commander-js/extra-typings';
import { UserError } from '../../errors.js';
import { DEFAULT_LAB_DIR } from '../../lab/config.js';
import type { ComponentStatus, LabStatus, LabUpOptions } from '../../lab/index.js';
import type { ReplicationTree, TreeLink } from '../../lab/tree.js';
import { jsonOutput } from '../../json-output.js';

// The lab (and the pg client it uses) loads only when a lab command runs: the CLI starts fast.
const loadLab = () => import('../../lab/index.js');

const DIR_HELP = `lab directory (default: ${DEFAULT_LAB_DIR} under the current directory)`;

export function registerLab(program: Command): void {
  const lab = program
    .command('lab')
    .description(
      'the local staging lab: PostgreSQL primary and replicas, HAProxy, sshd, PowerDNS, a Slack endpoint',
    );

  registerUp(lab);

  lab
    .command('status')
    .description(
      'show each component (up = its process runs and its ports answer), PostgreSQL roles and replication',
    )
    .option('--dir <dir>', DIR_HELP)
    .option('--json', 'print the status as JSON')
    .action(async (o) => {
      const status = await (await loadLab()).labStatus(o.dir);
      console.log(o.json ? jsonOutput(status, 2) : formatStatus(status));
    });

  lab
    .command('down')
    .description('stop every lab process by PID, wait for them to exit, and remove the lab directory')
    .option('--dir <dir>', DIR_HELP)
    .action(async (o) => {
      const result = await (await loadLab()).labDown(o.dir);
      if (!result.existed) return console.log(`no lab at ${result.dir}`);
      console.log(
        `stopped ${result.stopped.length ? result.stopped.join(', ') : 'nothing (no process was running)'}`,
      );
      console.log(`removed ${result.dir}`);
    });

  lab
    .command('env')
    .description('print the absolute path of the inventory the lab wrote')
    .option('--dir <dir>', DIR_HELP)
    .action(async (o) => console.log((await loadLab()).labEnvPath(o.dir)));
}

function registerUp(lab: Command): void {
  lab
    .command('up')
    .description('start the lab, or repair it (running parts are kept, dead ones restarted)')
    .option('--dir <dir>', DIR_HELP)
    .option('--replicas <n>', 'number of streaming replicas (default 2)')
    .option('--sync', 'synchronous replication: commits wait for one standby (--sync-mode quorum)')
    .option(
      '--sync-mode <mode>',
      "async (default), quorum (ANY 1), first (FIRST 1), all (every direct standby); quorum:N, first:N. Only the primary's direct standbys can be synchronous",
    )
    .option(
      '--topology <tree>',
      "who streams from whom: star (default: every replica on pg1), cascade (pg1>pg2>pg3...), or links such as 'pg1>pg2,pg2>pg3'",
    )
    .option('--base-address <ip>', 'node i listens on this loopback address + i (default 127.0.0.10)')
    .option('--pg-port <port>', 'PostgreSQL port on every node address (default 5432)')
    .option('--ssh-port <port>', 'sshd port on every node address (default 2222)')
    .option('--router-port <port>', 'HAProxy write frontend on 127.0.0.1 (default 6432)')
    .option('--dns-port <port>', 'PowerDNS DNS on 127.0.0.1 (default 5353)')
    .option('--dns-api-port <port>', 'PowerDNS HTTP API on 127.0.0.1 (default 8081)')
    .option('--slack-port <port>', 'Slack endpoint on 127.0.0.1 (default 3999)')
    .option(
      '--pg-bindir <dir>',
      'PostgreSQL server binaries (default: pg_config --bindir, then /usr/lib/postgresql/N/bin)',
    )
    .option('--archive', 'archive WAL into <dir>/archive (archive_mode = on), for point-in-time recovery')
    .option(
      '--archive-timeout <duration>',
      'with --archive: switch WAL segments at least this often (default 60s)',
    )
    .option(
      '--backup-tool <tool>',
      'with --archive: native (WAL into <dir>/archive) or pgbackrest (a stanza whose repository is <dir>/pgbackrest/repo)',
    )
    .option('--ha <manager>', 'let an HA manager run the cluster: patroni (with a 3-member etcd)')
    .option(
      '--patroni <timings>',
      "with --ha patroni: ttl=N,loop_wait=N,retry_timeout=N in seconds (default Patroni's 30,10,10)",
    )
    .option(
      '--patroni-rest-port <port>',
      "with --ha patroni: Patroni's REST API on every node address (default 8008)",
    )
    .option(
      '--etcd-port <port>',
      'with --ha patroni: etcd client port on the first 3 node addresses, peers on the next (default 2379)',
    )
    .option(
      '--monitoring',
      'Prometheus, a PostgreSQL exporter per node, Alertmanager and a drillbook serve for the lab (ports --pg-port + 6 .. + 9)',
    )
    .action(async (o) => {
      const options: LabUpOptions = {
        dir: o.dir,
        replicas: integer(o.replicas, '--replicas'),
        sync: o.sync,
        syncMode: o.syncMode,
        topology: o.topology,
        baseAddress: o.baseAddress,
        pgPort: integer(o.pgPort, '--pg-port'),
        sshPort: integer(o.sshPort, '--ssh-port'),
        routerPort: integer(o.routerPort, '--router-port'),
        dnsPort: integer(o.dnsPort, '--dns-port'),
        dnsApiPort: integer(o.dnsApiPort, '--dns-api-port'),
        slackPort: integer(o.slackPort, '--slack-port'),
        pgBinDir: o.pgBindir,
        archive: o.archive,
        archiveTimeout: o.archiveTimeout,
        backupTool: o.backupTool as LabUpOptions['backupTool'],
        ha: haManager(o.ha),
        patroni: o.patroni,
        patroniRestPort: integer(o.patroniRestPort, '--patroni-rest-port'),
        etcdPort: integer(o.etcdPort, '--etcd-port'),
        monitoring: o.monitoring,
      };
      const result = await (await loadLab()).labUp(options, (line) => console.log(line));
      console.log(`lab up in ${result.dir}; inventory: ${result.inventory}`);
    });
}

function integer(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UserError(`${flag} must be a whole number, got "${value}"`);
  return Number(value);
}

function haManager(value: string | undefined): 'patroni' | undefined {
  if (value === undefined || value === 'patroni') return value;
  throw new UserError(`--ha must be patroni, got "${value}"`);
}

function formatStatus(status: LabStatus): string {
  if (!status.exists) return `no lab at ${status.dir} (drillbook lab up starts one)`;
  const lines = [`lab ${status.dir}: ${status.allUp ? 'all up' : 'NOT all up'}`];
  for (const c of status.components) lines.push(formatComponent(c));
  if (status.patroni) lines.push(...formatPatroni(status.patroni));
  if (status.tree) lines.push(...drawTree(status.tree));
  if (status.inventory) lines.push(`inventory: ${status.inventory}`);
  return lines.join('\n');
}

function formatComponent(c: ComponentStatus): string {
  const where = c.listen.map((l) => `${l.host}:${l.port}`).join(' ');
  const state = c.up ? 'up' : c.running ? 'running, ports not answering' : 'down';
  return `  ${c.name.padEnd(12)} ${state.padEnd(5)} ${c.pid ? `pid ${c.pid}`.padEnd(10) : ''.padEnd(10)} ${where}${postgresDetail(c)}`;
}

function postgresDetail(c: ComponentStatus): string {
  const pg = c.postgres;
  if (!pg) return '';
  if (pg.error) return `  (${pg.error})`;
  if (typeof pg.replication === 'string') return `  ${pg.role}, WAL receiver ${pg.replication}`;
  const streams = pg.replication.map((r) => `${r.name} ${r.state} ${r.syncState}`).join(', ');
  return `  ${pg.role}${streams ? `, streaming to ${streams}` : ', no replicas connected'}`;
}

/** Patroni's view, as patronictl list shows it: leader, members, state, timeline, lag. */
function formatPatroni(view: NonNullable<LabStatus['patroni']>): string[] {
  if (!view.cluster) return [`patroni: no member answered (${view.error ?? 'unknown error'})`];
  const leader = view.cluster.members.find((m) => m.role === 'leader' || m.role === 'standby_leader');
  const lines = [`patroni: leader ${leader?.name ?? '(none)'}${view.cluster.pause ? ', paused' : ''}`];
  for (const m of view.cluster.members) {
    const lag = m.lag === undefined ? '' : `  lag ${m.lag}${typeof m.lag === 'number' ? ' B' : ''}`;
    const timeline = m.timeline === undefined ? '' : `  timeline ${m.timeline}`;
    const restart = m.pending_restart ? '  pending restart' : '';
    lines.push(`  ${m.name.padEnd(9)} ${m.role.padEnd(12)} ${m.state}${timeline}${lag}${restart}`);
  }
  return lines;
}
/** Each primary with its replicas below it, each link with its state and lag on its upstream. */
function drawTree(tree: ReplicationTree): string[] {
  const lines = ['replication:'];
  const drawn = new Set<string>();
  const walk = (up: string, indent: string) => {
    const below = tree.links.filter((l) => l.upstream === up && !drawn.has(l.node));
    below.forEach((link, i) => {
      const last = i === below.length - 1;
      drawn.add(link.node);
      lines.push(`${indent}${last ? '└─ ' : '├─ '}${formatLink(link)}`);
      walk(link.node, indent + (last ? '   ' : '│  '));
    });
  };
  for (const p of tree.primaries) {
    lines.push(`  ${p} (primary)`);
    walk(p, '  ');
  }
  // Replicas under a node that is no running primary (the primary lost, before a failover).
  for (const link of tree.links) {
    if (drawn.has(link.node)) continue;
    lines.push(`  ${link.upstream} (not a running primary)`);
    walk(link.upstream, '  ');
  }
  return lines;
}

function formatLink(l: TreeLink): string {
  const sync = l.syncState ? ` ${l.syncState}` : '';
  const lag = l.lagBytes === undefined || l.lagBytes === null ? '' : `, lag ${l.lagBytes} bytes`;
  const moved = l.upstream !== l.built ? ` (built under ${l.built})` : '';
  return `${l.node} ${l.state}${sync}${lag}${moved}`;
}
