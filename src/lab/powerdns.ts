// PowerDNS authoritative (gsqlite3) on loopback, with the lab zone created through its HTTP API.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StepFailure } from '../errors.js';
import { LAB_RECORD, LAB_RECORD_TTL, LAB_ZONE, type LabNode } from './config.js';
import type { LabContext } from './context.js';
import { run } from '../system/exec.js';
import { portAnswers } from '../system/ports.js';
import { isLabProcess, logTail, spawnDetached, waitFor } from '../system/processes.js';

export const POWERDNS = 'powerdns';
export const POWERDNS_SERVER_ID = 'localhost';

/** The server's base URL, as PowerDNS clients take it: they append /api/v1/servers/... */
export function powerdnsApiUrl(ctx: Pick<LabContext, 'config'>): string {
  return `http://${ctx.config.serviceHost}:${ctx.config.dnsApiPort}`;
}

export async function ensurePowerdns(ctx: LabContext, primary: LabNode): Promise<void> {
  const existing = ctx.state.components[POWERDNS];
  const { serviceHost: host, dnsPort, dnsApiPort } = ctx.config;
  if (existing && isLabProcess(existing.pid, ctx.paths.dir)) {
    ctx.report('powerdns: already running');
    return;
  }
  const dir = ctx.paths.powerdns;
  const database = join(dir, 'pdns.sqlite3');
  const log = join(ctx.paths.logs, 'powerdns.log');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(database)) {
    await run(ctx.tools.sqlite3, [database], { input: readFileSync(ctx.tools.pdnsSchema, 'utf8') });
  }
  writeFileSync(join(dir, 'pdns.conf'), pdnsConf(ctx, database), { mode: 0o600 });
  const pid = spawnDetached(ctx.tools.pdnsServer, [`--config-dir=${dir}`], { logFile: log });
  const listen = [
    { host, port: dnsPort },
    { host, port: dnsApiPort },
  ];
  ctx.record(POWERDNS, { kind: 'powerdns', pid, listen, created: false });
  const up = () =>
    isLabProcess(pid, ctx.paths.dir) &&
    portAnswers(host, dnsPort).then(async (dns) => dns && portAnswers(host, dnsApiPort));
  if (!(await waitFor(up, 15_000))) {
    throw new StepFailure(
      `pdns_server did not start on ${host}:${dnsPort} (API ${dnsApiPort}):\n${logTail(log)}`,
      { stepId: 'lab' },
    );
  }
  await ensureZone(ctx, primary);
  ctx.record(POWERDNS, { kind: 'powerdns', pid, listen, created: true });
  ctx.report(
    existing
      ? `powerdns: restarted (pid ${pid})`
      : `powerdns: ${LAB_ZONE} on ${host}:${dnsPort}, API ${powerdnsApiUrl(ctx)}, ${LAB_RECORD} -> ${primary.host}`,
  );
}

/** The zone is created once; a restarted server keeps the records (they live in SQLite). */
async function ensureZone(ctx: LabContext, primary: LabNode): Promise<void> {
  const zonesUrl = `${powerdnsApiUrl(ctx)}/api/v1/servers/${POWERDNS_SERVER_ID}/zones`;
  const headers = { 'X-API-Key': ctx.secrets.powerdnsApiKey, 'Content-Type': 'application/json' };
  const current = await fetch(`${zonesUrl}/${LAB_ZONE}`, { headers });
  if (current.ok) return;
  const ns = `ns1.${LAB_ZONE}`;
  const body = {
    name: LAB_ZONE,
    kind: 'Native',
    nameservers: [],
    rrsets: [
      rrset(LAB_ZONE, 'SOA', 3600, `${ns} hostmaster.${LAB_ZONE} 1 10800 3600 604800 ${LAB_RECORD_TTL}`),
      rrset(LAB_ZONE, 'NS', 3600, ns),
      rrset(ns, 'A', 3600, ctx.config.serviceHost),
      rrset(LAB_RECORD, 'A', LAB_RECORD_TTL, primary.host),
    ],
  };
  const created = await fetch(zonesUrl, { method: 'POST', headers, body: JSON.stringify(body) });
  if (!created.ok) {
    throw new StepFailure(
      `PowerDNS refused to create ${LAB_ZONE}: HTTP ${created.status} ${await created.text()}`,
      { stepId: 'lab' },
    );
  }
}

function rrset(name: string, type: string, ttl: number, content: string) {
  return { name, type, ttl, records: [{ content, disabled: false }] };
}

function pdnsConf(ctx: LabContext, database: string): string {
  const { serviceHost, dnsPort, dnsApiPort } = ctx.config;
  return (
    [
      '# Written by drillbook lab.',
      'launch=gsqlite3',
      `gsqlite3-database=${database}`,
      `local-address=${serviceHost}`,
      `local-port=${dnsPort}`,
      'api=yes',
      `api-key=${ctx.secrets.powerdnsApiKey}`,
      'webserver=yes',
      `webserver-address=${serviceHost}`,
      `webserver-port=${dnsApiPort}`,
      'webserver-allow-from=127.0.0.0/8',
      `socket-dir=${ctx.paths.powerdns}`,
      'daemon=no',
      'guardian=no',
      'disable-syslog=yes',
      // No caching: a drill measures the switch itself, and the next query must see an API change.
      'cache-ttl=0',
      'negquery-cache-ttl=0',
      'query-cache-ttl=0',
      'zone-cache-refresh-interval=0',
    ].join('\n') + '\n'
  );
}
