// The inventory: environments and their targets. Credentials are references, never inline.
import { Type, type Static } from '@sinclair/typebox';
import { API_VERSION, HINT, Name, Port, SecretRef, Strict, OneOf } from './common.js';

/**
 * A host name or an IP address, nothing else: these values reach command lines (SSH, iptables) and
 * connection strings, so a stray `;`, space or quote is an error in the inventory, not a command.
 */
const HOST_PATTERN = [
  '^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\\.?$',
  '^[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*$',
].join('|');
const Host = (description?: string) =>
  Type.String({ pattern: HOST_PATTERN, maxLength: 253, description, [HINT]: 'a host name or an IP address' });

/** A pgBackRest stanza name reaches its command line and repository paths: a plain name only. */
export const STANZA_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$';

/** An absolute directory on a node's host (one line). */
const AbsoluteDir = (description?: string) =>
  Type.String({ pattern: '^/[^\\n\\r]*$', description, [HINT]: 'an absolute directory (starting with /)' });

export const PostgresNode = Strict({
  host: Host('address clients and replicas use'),
  port: Port,
  ssh: Type.Optional(Type.String({ description: 'name of the SSH host that runs this node' })),
  dataDir: Type.Optional(AbsoluteDir('data directory on that host')),
  binDir: Type.Optional(AbsoluteDir('PostgreSQL server binaries on that host')),
  socketDir: Type.Optional(AbsoluteDir('Unix socket directory on that host')),
  osUser: Type.Optional(Type.String({ description: 'OS user that owns the server process' })),
  upstream: Type.Optional(
    Type.String({
      description:
        'the node this replica streams from in the steady state (a cascade); absent: the environment primary',
    }),
  ),
});

export const Postgres = Strict({
  database: Type.String(),
  user: Type.String(),
  password: Type.Optional(SecretRef),
  replicationUser: Type.Optional(Type.String()),
  replicationPassword: Type.Optional(SecretRef),
  nodes: Type.Record(Type.String(), PostgresNode, { minProperties: 1 }),
});

export const SshHost = Strict({
  host: Host(),
  port: Type.Optional(Port),
  user: Type.String(),
  privateKey: SecretRef,
  knownHosts: Type.String({ description: 'known_hosts file pinning the host key' }),
});

export const HaproxyRouter = Strict({
  type: Type.Literal('haproxy'),
  socket: Type.String({ description: 'runtime API Unix socket (admin level)' }),
  backend: Type.String(),
  server: Type.String({ description: 'the server slot that carries writes' }),
  listen: Strict({ host: Host(), port: Port }, { description: 'where clients connect' }),
});

export const DnsZone = Strict({
  provider: OneOf(['powerdns', 'route53', 'cloudflare']),
  zone: Type.String({ description: 'zone name with its trailing dot' }),
  apiUrl: Type.Optional(
    Type.String({
      description:
        'API base URL: PowerDNS webserver, Cloudflare (default https://api.cloudflare.com/client/v4), Route 53 endpoint override',
    }),
  ),
  apiKey: Type.Optional(SecretRef),
  serverId: Type.Optional(Type.String({ description: 'PowerDNS server id (default localhost)' })),
  hostedZoneId: Type.Optional(Type.String({ description: 'Route 53 hosted zone id' })),
  region: Type.Optional(Type.String({ description: 'Route 53 signing region (default us-east-1)' })),
  // Route 53 credentials; without them the AWS SDK's own chain (environment, profile, role) applies.
  accessKeyId: Type.Optional(SecretRef),
  secretAccessKey: Type.Optional(SecretRef),
  zoneId: Type.Optional(Type.String({ description: 'Cloudflare zone id' })),
  nameservers: Type.Array(Strict({ host: Host(), port: Port }), {
    minItems: 1,
    description: 'authoritative servers queried to confirm propagation',
  }),
});

export const DnsRecord = Strict({
  zone: Type.String({ description: 'name of a zone under dns.zones' }),
  name: Type.String({ description: 'fully qualified record name with its trailing dot' }),
  type: OneOf(['A', 'AAAA', 'CNAME']),
  ttl: Type.Optional(Type.Integer({ minimum: 1 })),
});

export const Slack = Strict({
  token: SecretRef,
  channel: Type.String(),
  apiUrl: Type.Optional(Type.String({ description: 'Slack Web API base URL (a local endpoint in the lab)' })),
  // The Slack app's signing secret: `drillbook serve` checks approval clicks with it.
  signingSecret: Type.Optional(SecretRef),
  approvers: Type.Optional(
    Type.Array(Type.String({ pattern: '^[UW][A-Z0-9]{2,}$' }), {
      description: 'Slack user ids allowed to answer approvals by button; absent: nobody can by Slack',
    }),
  ),
  fourEyes: Type.Optional(
    Type.Boolean({ description: 'the person who started a run may not approve its steps' }),
  ),
});

export const Coordination = Strict({
  host: Host(),
  port: Port,
  database: Type.String(),
  user: Type.String(),
  password: Type.Optional(SecretRef),
});

/** The HA manager that runs the cluster (Patroni): drills observe its failovers instead of making their own. */
export const HaManager = Strict(
  {
    manager: Type.Literal('patroni'),
    rest: Strict(
      {
        urls: Type.Record(
          Type.String(),
          Type.String({
            pattern: '^https?://[^\\s/]+/?$',
            [HINT]: 'a base URL such as http://10.0.0.1:8008',
          }),
          { minProperties: 1, description: 'Patroni REST API base URL of each member, by node name' },
        ),
        username: Type.Optional(Type.String({ description: 'Basic auth user of the unsafe calls' })),
        password: Type.Optional(SecretRef),
        ca: Type.Optional(SecretRef),
      },
      {
        description:
          "Patroni's REST API; its Basic auth password and, for https URLs signed by a private CA, that CA's PEM (ca) are secret references",
      },
    ),
    dcs: Type.Optional(
      Strict(
        {
          type: OneOf(['etcd3', 'etcd', 'consul', 'zookeeper']),
          endpoints: Type.Array(Type.String(), { minItems: 1, description: 'host:port of each DCS member' }),
          scope: Type.Optional(Type.String({ description: "Patroni's scope (the cluster name)" })),
          namespace: Type.Optional(Type.String({ description: "Patroni's namespace (default /service/)" })),
        },
        { description: 'the DCS Patroni keeps its leader key in (drills stop or cut its members)' },
      ),
    ),
  },
  { description: 'the HA manager that fails this cluster over' },
);

/** A cloud account the rds and aurora-global actions call; credentials from the SDK's chain unless given. */
export const Cloud = Strict(
  {
    provider: OneOf(['aws']),
    region: Type.String({ pattern: '^[a-z]{2}(-[a-z]+)+-\\d+$', description: 'AWS region, e.g. eu-west-1' }),
    endpoint: Type.Optional(
      Type.String({ description: 'API endpoint override (a VPC endpoint, a test endpoint)' }),
    ),
    // Without them the AWS SDK's own chain applies (environment, shared profile, instance role).
    accessKeyId: Type.Optional(SecretRef),
    secretAccessKey: Type.Optional(SecretRef),
  },
  { description: 'the cloud API the environment’s managed databases answer to' },
);

export const Environment = Strict({
  label: OneOf(['staging', 'production']),
  description: Type.Optional(Type.String()),
  primary: Type.String({ description: 'the node that is primary in the steady state' }),
  replicas: Type.Array(Type.String()),
  postgres: Postgres,
  ssh: Type.Optional(Type.Record(Type.String(), SshHost)),
  routers: Type.Optional(Type.Record(Type.String(), HaproxyRouter)),
  dns: Type.Optional(
    Strict({
      zones: Type.Record(Type.String(), DnsZone),
      records: Type.Record(Type.String(), DnsRecord),
    }),
  ),
  slack: Type.Optional(Slack),
  serve: Type.Optional(
    Strict(
      {
        url: Type.String({ description: 'where it listens, e.g. http://127.0.0.1:8470' }),
        stateDir: Type.String({
          pattern: '^/',
          description: 'its --state-dir: its runs, their journals and serve/alerts.jsonl',
        }),
      },
      {
        description:
          'the `drillbook serve` that alerts on this environment start runs through: a drill with `trigger: alert` waits for its run there',
      },
    ),
  ),
  coordination: Type.Optional(Coordination),
  ha: Type.Optional(HaManager),
  cloud: Type.Optional(Cloud),
  backups: Type.Optional(
    Strict(
      {
        tool: Type.Optional(
          OneOf(['native', 'pgbackrest'], {
            default: 'native',
            description:
              'who makes and restores the backups: drillbook (store, archive) or pgBackRest (stanza, config); backup, restore-test, pitr and verify follow it',
          }),
        ),
        store: Type.Optional(
          Type.String({ pattern: '^/', description: 'absolute directory of a local backup store (native)' }),
        ),
        archive: Type.Optional(
          Type.String({ pattern: '^/', description: 'absolute directory of the WAL archive, readable here' }),
        ),
        stanza: Type.Optional(
          Type.String({
            pattern: STANZA_PATTERN,
            description: 'pgBackRest stanza',
            [HINT]: 'a plain stanza name',
          }),
        ),
        config: Type.Optional(
          Type.String({
            pattern: '^/',
            description: 'absolute path of the pgbackrest.conf that describes the stanza',
          }),
        ),
      },
      {
        description: 'where this environment keeps its backups (drills and runbooks read it as env.backups)',
      },
    ),
  ),
});

export const Inventory = Strict(
  {
    $schema: Type.Optional(Type.String()),
    apiVersion: Type.Literal(API_VERSION),
    kind: Type.Literal('Inventory'),
    metadata: Type.Optional(Strict({ name: Name, description: Type.Optional(Type.String()) })),
    environments: Type.Record(Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$' }), Environment, {
      minProperties: 1,
    }),
  },
  { title: 'drillbook Inventory', $id: 'https://drillbook.dev/schemas/inventory.schema.json' },
);

export type Inventory = Static<typeof Inventory>;
export type Environment = Static<typeof Environment>;
export type PostgresNode = Static<typeof PostgresNode>;
export type SshHost = Static<typeof SshHost>;
export type HaproxyRouter = Static<typeof HaproxyRouter>;
export type DnsZone = Static<typeof DnsZone>;
export type DnsRecord = Static<typeof DnsRecord>;
export type Slack = Static<typeof Slack>;
export type HaManager = Static<typeof HaManager>;
export type Cloud = Static<typeof Cloud>;

/** The chosen environment as expressions see it (`env.name`, `env.primary`, ...). */
export type EnvContext = Environment & { name: string };

/** Resolves the role alias `primary` to the environment's steady-state primary; other names are nodes. */
export const resolveNode = (env: Environment, name: string) => (name === 'primary' ? env.primary : name);

/** The node a replica streams from in the steady state: its recorded upstream, else the primary. */
export const steadyUpstream = (env: Environment, node: string) =>
  env.postgres.nodes[node]?.upstream ?? env.primary;

/** The replicas of a tree (replica → upstream) level by level from its root: each after its upstream. */
export function treeLevels(upstreams: Record<string, string>, root: string): string[][] {
  const levels: string[][] = [];
  for (let parents = [root]; parents.length > 0;) {
    const level = Object.keys(upstreams).filter((r) => parents.includes(upstreams[r]!));
    if (level.length > 0) levels.push(level);
    parents = level;
  }
  return levels;
}
