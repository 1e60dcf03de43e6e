// Failover events of an RDS DB cluster, read from DescribeEvents. The API returns each event's
// message, not its RDS-EVENT id, so the id is told from the message (the documented wording of
// each event); a message that names its id is taken at its word.
import type { Event } from '@aws-sdk/client-rds';
import type { RdsApi } from './rds.js';

export type FailoverPhase = 'started' | 'completed' | 'failed';

export interface FailoverEvent {
  /** When RDS recorded it (ISO 8601). */
  at: string;
  code: string;
  phase: FailoverPhase;
  message: string;
}

const PHASE_OF_CODE: Record<string, FailoverPhase> = {
  'RDS-EVENT-0072': 'started',
  'RDS-EVENT-0073': 'started',
  'RDS-EVENT-0071': 'completed',
  'RDS-EVENT-0069': 'failed',
};

/** The id of a cluster failover event from its message, or undefined for any other event. */
export function failoverEventCode(message: string): string | undefined {
  const named = /RDS-EVENT-\d{4}/.exec(message)?.[0];
  if (named) return PHASE_OF_CODE[named] ? named : undefined;
  if (
    /fail(ed|ure)\b/i.test(message) &&
    /failover/i.test(message) &&
    !/started|completed|finished/i.test(message)
  )
    return 'RDS-EVENT-0069';
  if (/(started|begun).*same (AZ|Availability Zone)/i.test(message)) return 'RDS-EVENT-0072';
  if (/(started|begun).*(cross|across) (AZ|Availability Zones?)/i.test(message)) return 'RDS-EVENT-0073';
  if (/(completed|finished) failover|failover .*(completed|finished)/i.test(message)) return 'RDS-EVENT-0071';
  return undefined;
}

const asFailoverEvent = (e: Event): FailoverEvent | undefined => {
  const message = e.Message ?? '';
  const code = failoverEventCode(message);
  return code && e.Date
    ? { at: e.Date.toISOString(), code, phase: PHASE_OF_CODE[code]!, message }
    : undefined;
};

/** The cluster's failover events since `since`, oldest first (every page of the listing). */
export async function clusterFailoverEvents(
  api: RdsApi,
  cluster: string,
  since: Date,
): Promise<FailoverEvent[]> {
  const events: FailoverEvent[] = [];
  let marker: string | undefined;
  do {
    const page = await api.call(`DescribeEvents ${cluster}`, (abortSignal) =>
      api.client.send(
        new api.sdk.DescribeEventsCommand({
          SourceIdentifier: cluster,
          SourceType: 'db-cluster',
          StartTime: since,
          EventCategories: ['failover', 'failure'],
          Marker: marker,
        }),
        { abortSignal },
      ),
    );
    for (const e of page.Events ?? []) {
      const event = asFailoverEvent(e);
      if (event) events.push(event);
    }
    marker = page.Marker;
  } while (marker);
  return events.sort((a, b) => a.at.localeCompare(b.at));
}
