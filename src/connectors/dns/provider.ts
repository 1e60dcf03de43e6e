// DNS providers behind one interface: read a record, replace it with one value. Each provider
// module is loaded when a zone uses it, so the AWS SDK costs nothing to runbooks that never use it.
import type { DnsZone } from '../../schema/inventory.js';

export type RecordType = 'A' | 'AAAA' | 'CNAME';

export interface RecordSet {
  name: string;
  type: RecordType;
  ttl: number;
  values: string[];
}

export interface DnsProvider {
  /** Names the provider and zone in messages: `powerdns http://127.0.0.1:8081 zone lab.`. */
  readonly target: string;
  getRecord(name: string, type: RecordType): Promise<RecordSet | undefined>;
  /** Makes `value` the record's only value, creating the record when it does not exist. */
  replaceRecord(name: string, type: RecordType, value: string, ttl: number): Promise<void>;
}

export interface ProviderOptions {
  /** Resolves secret references and registers the value for redaction (ActionContext.secret). */
  secret(ref: string): Promise<string>;
  signal?: AbortSignal;
  /** How often Route 53 is asked whether a change is INSYNC, and for how long at most. */
  syncIntervalMs?: number;
  syncTimeoutMs?: number;
}

export async function dnsProvider(zone: DnsZone, options: ProviderOptions): Promise<DnsProvider> {
  switch (zone.provider) {
    case 'powerdns':
      return (await import('./powerdns.js')).powerdnsProvider(zone, options);
    case 'route53':
      return (await import('./route53.js')).route53Provider(zone, options);
    case 'cloudflare':
      return (await import('./cloudflare.js')).cloudflareProvider(zone, options);
  }
}

/** DNS names and CNAME targets compare without case and without the trailing dot. */
export const sameName = (a: string, b: string) =>
  a.replace(/\.$/, '').toLowerCase() === b.replace(/\.$/, '').toLowerCase();
