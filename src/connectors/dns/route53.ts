// Route 53 through the AWS SDK v3: UPSERT the record, then wait for the change to be INSYNC (on
// every Route 53 authoritative server). `apiUrl` overrides the endpoint (tests, VPC endpoints).
import { awsCredentials } from '../aws-credentials.js';
import { awsFailure } from '../aws-errors.js';
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { StepFailure, UserError } from '../../errors.js';
import type { DnsZone } from '../../schema/inventory.js';
import { pollUntil } from '../poll.js';
import { sameName, type DnsProvider, type ProviderOptions, type RecordType } from './provider.js';

// Route 53 usually reports INSYNC within a minute; AWS suggests polling no faster than this.
const DEFAULT_SYNC_INTERVAL_MS = 2_000;
const DEFAULT_SYNC_TIMEOUT_MS = 180_000;

export async function route53Provider(zone: DnsZone, options: ProviderOptions): Promise<DnsProvider> {
  const { hostedZoneId } = zone;
  if (!hostedZoneId)
    throw new UserError(`dns zone ${zone.zone} (route53) needs hostedZoneId in the inventory`);
  if (Boolean(zone.accessKeyId) !== Boolean(zone.secretAccessKey)) {
    throw new UserError(
      `dns zone ${zone.zone} (route53): give both accessKeyId and secretAccessKey, or neither`,
    );
  }
  const credentials = await awsCredentials(zone.accessKeyId, zone.secretAccessKey, options.secret);
  const client = new Route53Client({
    region: zone.region ?? 'us-east-1',
    endpoint: zone.apiUrl,
    credentials,
    maxAttempts: 3,
  });
  const target = `route53 zone ${zone.zone} (${hostedZoneId})`;
  const send = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason;
      throw awsFailure(`${target}: ${what}`, err);
    }
  };
  const abortSignal = options.signal;

  return {
    target,
    async getRecord(name, type) {
      const answer = await send('ListResourceRecordSets', () =>
        client.send(
          new ListResourceRecordSetsCommand({
            HostedZoneId: hostedZoneId,
            StartRecordName: name,
            StartRecordType: type,
            MaxItems: 1,
          }),
          { abortSignal },
        ),
      );
      // The listing starts at the name and goes on in order: the first set may be another record.
      const found = answer.ResourceRecordSets?.find((r) => r.Type === type && sameName(r.Name ?? '', name));
      return found
        ? {
            name,
            type: type as RecordType,
            ttl: found.TTL ?? 0,
            values: (found.ResourceRecords ?? []).map((r) => r.Value ?? ''),
          }
        : undefined;
    },
    async replaceRecord(name, type, value, ttl) {
      const change = await send('ChangeResourceRecordSets', () =>
        client.send(
          new ChangeResourceRecordSetsCommand({
            HostedZoneId: hostedZoneId,
            ChangeBatch: {
              Comment: 'drillbook',
              Changes: [
                {
                  Action: 'UPSERT',
                  ResourceRecordSet: {
                    Name: name,
                    Type: type,
                    TTL: ttl,
                    ResourceRecords: [{ Value: value }],
                  },
                },
              ],
            },
          }),
          { abortSignal },
        ),
      );
      const id = change.ChangeInfo?.Id;
      if (!id) throw new StepFailure(`${target}: ChangeResourceRecordSets answered without a change id`);
      if (change.ChangeInfo?.Status === 'INSYNC') return;
      const timeoutMs = options.syncTimeoutMs ?? DEFAULT_SYNC_TIMEOUT_MS;
      const synced = await pollUntil(
        async () => {
          const got = await send(`GetChange ${id}`, () =>
            client.send(new GetChangeCommand({ Id: id }), { abortSignal }),
          );
          return got.ChangeInfo?.Status === 'INSYNC' ? true : undefined;
        },
        { timeoutMs, intervalMs: options.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS, signal: abortSignal },
      );
      if (!synced) {
        throw new StepFailure(`${target}: change ${id} is not INSYNC after ${timeoutMs / 1000}s`, {
          retryable: true,
        });
      }
    },
  };
}
