// The inventory `lab up` writes: one `lab` environment (staging) naming every lab target.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Inventory } from '../schema/inventory.js';
import {
  LAB_DATABASE,
  LAB_RECORD,
  LAB_RECORD_TTL,
  LAB_REPLICATION_USER,
  LAB_SLACK_CHANNEL,
  LAB_SLACK_APPROVER,
  LAB_USER,
  LAB_ZONE,
} from './config.js';
import type { LabContext } from './context.js';
import { HAPROXY_BACKEND, HAPROXY_SERVER } from './haproxy.js';
import { nodePaths } from './paths.js';
import { POWERDNS_SERVER_ID, powerdnsApiUrl } from './powerdns.js';
import { secretPath } from './secrets.js';
import { slackApiUrl } from './slack.js';
import { labRepository } from './pgbackrest.js';
import { sshFiles } from './sshd.js';
import { patroniInventory } from './patroni.js';
import { serveUrl } from './monitoring-config.js';

export const LAB_ENVIRONMENT = 'lab';

export function labInventory(ctx: Omit<LabContext, 'record' | 'report' | 'secrets'>): Inventory {
  const { config, paths, serviceUser } = ctx;
  const [primary, ...replicas] = config.nodes;
  if (!primary) throw new Error('a lab has at least one node');
  const ssh = sshFiles(ctx);
  const secret = (name: Parameters<typeof secretPath>[1]) => `file:${secretPath(paths.secrets, name)}`;
  return {
    apiVersion: 'drillbook/v1',
    kind: 'Inventory',
    metadata: { name: 'drillbook-lab', description: `The local staging lab in ${paths.dir}` },
    environments: {
      [LAB_ENVIRONMENT]: {
        label: 'staging',
        description: 'Local staging lab on loopback (drillbook lab up)',
        primary: primary.name,
        replicas: replicas.map((r) => r.name),
        postgres: {
          database: LAB_DATABASE,
          user: LAB_USER,
          password: secret('postgresPassword'),
          replicationUser: LAB_REPLICATION_USER,
          replicationPassword: secret('replicationPassword'),
          nodes: Object.fromEntries(
            config.nodes.map((n) => {
              const np = nodePaths(paths, n.name);
              const node = {
                host: n.host,
                port: n.port,
                ssh: n.name,
                dataDir: np.data,
                binDir: ctx.tools.pgBinDir,
                socketDir: np.socket,
                osUser: serviceUser.name,
                ...(config.upstreams[n.name] !== undefined && { upstream: config.upstreams[n.name] }),
              };
              return [n.name, node];
            }),
          ),
        },
        ssh: Object.fromEntries(
          config.nodes.map((n) => [
            n.name,
            {
              host: n.host,
              port: config.sshPort,
              user: serviceUser.name,
              privateKey: `file:${ssh.clientKey}`,
              knownHosts: ssh.knownHosts,
            },
          ]),
        ),
        routers: {
          main: {
            type: 'haproxy',
            socket: paths.haproxySocket,
            backend: HAPROXY_BACKEND,
            server: HAPROXY_SERVER,
            listen: { host: config.serviceHost, port: config.routerPort },
          },
        },
        dns: {
          zones: {
            lab: {
              provider: 'powerdns',
              zone: LAB_ZONE,
              apiUrl: powerdnsApiUrl(ctx),
              apiKey: secret('powerdnsApiKey'),
              serverId: POWERDNS_SERVER_ID,
              nameservers: [{ host: config.serviceHost, port: config.dnsPort }],
            },
          },
          records: { db: { zone: 'lab', name: LAB_RECORD, type: 'A', ttl: LAB_RECORD_TTL } },
        },
        slack: {
          token: secret('slackToken'),
          channel: LAB_SLACK_CHANNEL,
          apiUrl: slackApiUrl(ctx),
          signingSecret: secret('slackSigningSecret'),
          approvers: [LAB_SLACK_APPROVER],
        },
        ...(config.monitoring && { serve: { url: serveUrl(config), stateDir: paths.serve } }),
        ...(config.patroni && { ha: patroniInventory(config, secret('patroniRestPassword')) }),
        backups:
          config.archive?.tool === 'pgbackrest'
            ? { tool: 'pgbackrest', stanza: labRepository(ctx).stanza, config: labRepository(ctx).config }
            : { store: ctx.paths.backups, ...(config.archive && { archive: ctx.paths.archive }) },
      },
    },
  };
}

export function writeInventory(file: string, inventory: Inventory): void {
  const header = '# Written by `drillbook lab up`; rewritten on every run. Secrets are file: references.\n';
  writeFileSync(file, header + stringify(inventory), { mode: 0o644 });
}

export function inventoryPath(dir: string): string {
  return join(dir, 'inventory.yaml');
}
