// An inventory DNS record with its zone, as the dns and validate actions need them together.
import { UserError } from '../../errors.js';
import type { DnsRecord, DnsZone, Environment } from '../../schema/inventory.js';

export function inventoryRecord(env: Environment, name: string): { record: DnsRecord; zone: DnsZone } {
  const record = env.dns?.records[name];
  if (!record) {
    const known = Object.keys(env.dns?.records ?? {});
    throw new UserError(
      `no DNS record "${name}" in the environment${known.length ? ` (records: ${known.join(', ')})` : ''}`,
    );
  }
  const zone = env.dns?.zones[record.zone];
  if (!zone)
    throw new UserError(`DNS record "${name}" names zone "${record.zone}", which is not under dns.zones`);
  return { record, zone };
}
