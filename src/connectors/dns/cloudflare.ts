// Cloudflare API v4 over fetch: two endpoints (list a name's records, create/update one) do not
// justify the official SDK's size. Record names travel without the trailing dot, as Cloudflare uses them.
import { StepFailure, UserError } from '../../errors.js';
import type { DnsZone } from '../../schema/inventory.js';
import { requestJson, type JsonRequest } from '../http.js';
import type { DnsProvider, ProviderOptions } from './provider.js';

const DEFAULT_API_URL = 'https://api.cloudflare.com/client/v4';

interface CfRecord {
  id: string;
  type: string;
  name: string;
  content: string;
  ttl: number;
}

interface CfAnswer<T> {
  success: boolean;
  errors?: { code: number; message: string }[];
  result: T;
}

export async function cloudflareProvider(zone: DnsZone, options: ProviderOptions): Promise<DnsProvider> {
  if (!zone.zoneId || !zone.apiKey) {
    throw new UserError(
      `dns zone ${zone.zone} (cloudflare) needs zoneId and apiKey (an API token) in the inventory`,
    );
  }
  const base = (zone.apiUrl ?? DEFAULT_API_URL).replace(/\/+$/, '');
  const records = `${base}/zones/${encodeURIComponent(zone.zoneId)}/dns_records`;
  const headers = { authorization: `Bearer ${await options.secret(zone.apiKey)}` };
  const target = `cloudflare ${base} zone ${zone.zone} (${zone.zoneId})`;
  const call = async <T>(method: JsonRequest['method'], url: string, body?: unknown): Promise<T> => {
    const answer = await requestJson<CfAnswer<T>>(target, {
      method,
      url,
      headers,
      body,
      signal: options.signal,
    });
    if (!answer?.success) {
      const why = answer?.errors?.map((e) => `${e.code} ${e.message}`).join('; ') || 'no details';
      throw new StepFailure(`${target}: ${method} was refused: ${why}`);
    }
    return answer.result;
  };
  const list = (name: string, type: string) =>
    call<CfRecord[]>('GET', `${records}?${new URLSearchParams({ name: bare(name), type })}`);

  return {
    target,
    async getRecord(name, type) {
      const found = await list(name, type);
      const ttl = found[0]?.ttl;
      // Cloudflare's ttl 1 means "automatic" (300 s for unproxied records).
      return ttl === undefined
        ? undefined
        : { name, type, ttl: ttl === 1 ? 300 : ttl, values: found.map((r) => r.content) };
    },
    async replaceRecord(name, type, value, ttl) {
      const [first, ...rest] = await list(name, type);
      const record = { type, name: bare(name), content: value, ttl };
      if (first) await call('PUT', `${records}/${first.id}`, record);
      else await call('POST', records, record);
      // Replace means one value: extra records of a round-robin set go.
      for (const extra of rest) await call('DELETE', `${records}/${extra.id}`);
    },
  };
}

const bare = (name: string) => name.replace(/\.$/, '');
