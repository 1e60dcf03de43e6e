// PowerDNS authoritative HTTP API: read the zone's rrsets, PATCH one with changetype REPLACE.
import { UserError } from '../../errors.js';
import type { DnsZone } from '../../schema/inventory.js';
import { requestJson } from '../http.js';
import {
  sameName,
  type DnsProvider,
  type ProviderOptions,
  type RecordSet,
  type RecordType,
} from './provider.js';

interface PdnsRrset {
  name: string;
  type: string;
  ttl: number;
  records: { content: string; disabled?: boolean }[];
}

export async function powerdnsProvider(zone: DnsZone, options: ProviderOptions): Promise<DnsProvider> {
  if (!zone.apiUrl || !zone.apiKey) {
    throw new UserError(`dns zone ${zone.zone} (powerdns) needs apiUrl and apiKey in the inventory`);
  }
  const base = zone.apiUrl.replace(/\/+$/, '');
  const url = `${base}/api/v1/servers/${encodeURIComponent(zone.serverId ?? 'localhost')}/zones/${encodeURIComponent(zone.zone)}`;
  const headers = { 'X-API-Key': await options.secret(zone.apiKey) };
  const target = `powerdns ${base} zone ${zone.zone}`;
  const call = <T>(method: 'GET' | 'PATCH', body?: unknown) =>
    requestJson<T>(target, { method, url, headers, body, signal: options.signal });

  return {
    target,
    async getRecord(name, type) {
      const found = (await call<{ rrsets: PdnsRrset[] }>('GET'))?.rrsets.find(
        (r) => r.type === type && sameName(r.name, name),
      );
      return found && asRecordSet(found, type);
    },
    async replaceRecord(name, type, value, ttl) {
      await call('PATCH', {
        rrsets: [{ name, type, ttl, changetype: 'REPLACE', records: [{ content: value, disabled: false }] }],
      });
    },
  };
}

function asRecordSet(r: PdnsRrset, type: RecordType): RecordSet {
  return {
    name: r.name,
    type,
    ttl: r.ttl,
    values: r.records.filter((x) => !x.disabled).map((x) => x.content),
  };
}
