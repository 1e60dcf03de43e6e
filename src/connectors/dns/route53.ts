// Route 53 through the AWS SDK v3: UPSERT the record, then wait for the change to be INSYNC (on
// every Route 53 authoritative server). `apiUrl` overrides the endpoint (tests, VPC endpoints).
import { awsCredentials } from '../aws-credentials.js';
import { awsFailure } from '../aws-errors.js';
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  type ListResourceRecordSetsCommandInput,
  type ResourceRecordSet,
  type RRType,
} from '@aws-sdk/client-route-53';
import { StepFailure, UserError } from '../../errors.js';
import type { DnsZone } from '../../schema/inventory.js';
import { pollUntil } from '../poll.js';
import { sameName, type DnsProvider, type ProviderOptions, type RecordType } from './provider.js';

// Route 53 usually reports INSYNC within a minute; AWS suggests polling no faster than this.
const DEFAULT_SYNC_INTERVAL_MS = 2_000;
const DEFAULT_SYNC_TIMEOUT_MS = 180_000;
/** Record sets per ListResourceRecordSets page (Route 53 allows up to 300). */
const PAGE_SIZE = 100;

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
      const sets = await recordSets(client, hostedZoneId, name, type, send, abortSignal);
      const [found] = sets;
      if (!found) return undefined;
      if (sets.length > 1 || found.SetIdentifier) {
        throw new StepFailure(
          `${target}: ${type} ${name} is ${sets.length} record set(s) with a routing policy (SetIdentifier ${found.SetIdentifier}): drillbook replaces only a simple record`,
        );
      }
      return {
        name,
        type: type as RecordType,
        ttl: found.TTL ?? 0,
        values: (found.ResourceRecords ?? []).map((r) => r.Value ?? ''),
      };
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

type Send = <T>(what: string, run: () => Promise<T>) => Promise<T>;

/**
 * The zone's record sets of one name and type. The listing starts at the name and goes on in Route
 * 53's order through the whole zone, a page at a time: ours come first, and once a page shows
 * another record they have all been seen.
 */
async function recordSets(
  client: Route53Client,
  hostedZoneId: string,
  name: string,
  type: string,
  send: Send,
  abortSignal: AbortSignal | undefined,
): Promise<ResourceRecordSet[]> {
  const ours = (r: ResourceRecordSet) => r.Type === type && sameName(r.Name ?? '', name);
  const sets: ResourceRecordSet[] = [];
  let start: Pick<
    ListResourceRecordSetsCommandInput,
    'StartRecordName' | 'StartRecordType' | 'StartRecordIdentifier'
  > = { StartRecordName: name, StartRecordType: type as RRType };
  for (;;) {
    const page = await send('ListResourceRecordSets', () =>
      client.send(
        new ListResourceRecordSetsCommand({ HostedZoneId: hostedZoneId, ...start, MaxItems: PAGE_SIZE }),
        { abortSignal },
      ),
    );
    const listed = page.ResourceRecordSets ?? [];
    sets.push(...listed.filter(ours));
    const more =
      page.IsTruncated && sameName(page.NextRecordName ?? '', name) && page.NextRecordType === type;
    if (!more || listed.some((r) => !ours(r))) return sets;
    start = {
      StartRecordName: page.NextRecordName,
      StartRecordType: page.NextRecordType,
      StartRecordIdentifier: page.NextRecordIdentifier,
    };
  }
}
