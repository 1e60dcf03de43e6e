// Patroni's REST API: the cluster view (GET /cluster) and the calls that change it (switchover,
// failover, PATCH /config, restart, reinit). Any member answers /cluster from the DCS, so reads try
// the members in turn; a refusal (401, 412, 503) fails in one line with the status and Patroni's text.
import { StepFailure } from '../errors.js';
import { requestJson, requestText, type JsonRequest } from './http.js';

export interface PatroniMember {
  name: string;
  role: 'leader' | 'standby_leader' | 'sync_standby' | 'replica';
  state: string;
  api_url?: string;
  host?: string;
  port?: number;
  timeline?: number;
  /** Bytes behind the leader, or "unknown" when the member reports no position. */
  lag?: number | string;
  pending_restart?: boolean;
}

export interface PatroniCluster {
  members: PatroniMember[];
  pause?: boolean;
  scheduled_switchover?: { at: string; from?: string; to?: string };
}

/** How to reach one cluster's REST API: a base URL per member, and Basic auth for the unsafe calls. */
export interface PatroniApi {
  urls: Record<string, string>;
  auth?: { username: string; password: string };
  signal?: AbortSignal;
  timeoutMs?: number;
  /** PEM of the private CA that signed the members' REST certificates (https URLs). */
  ca?: string;
}

const DEFAULT_TIMEOUT_MS = 2000;

/** The cluster as the first answering member reports it; every member failing is one error naming each. */
export async function patroniCluster(api: PatroniApi): Promise<PatroniCluster> {
  const failures: string[] = [];
  for (const [name, url] of Object.entries(api.urls)) {
    try {
      const cluster = await requestJson<PatroniCluster>(
        `patroni ${name} ${url}`,
        request(api, url, 'GET', '/cluster'),
      );
      if (cluster?.members) return cluster;
      failures.push(`${name}: no members in the answer`);
    } catch (err) {
      if (api.signal?.aborted) throw err;
      failures.push(err instanceof Error ? err.message : String(err));
    }
  }
  throw new StepFailure(`no Patroni member answered GET /cluster: ${failures.join('; ')}`, {
    retryable: true,
  });
}

/** The running leader, if there is one. */
export const runningLeader = (cluster: PatroniCluster): PatroniMember | undefined =>
  cluster.members.find((m) => (m.role === 'leader' || m.role === 'standby_leader') && m.state === 'running');

/**
 * An unsafe call (POST, PATCH) on one member's API, sent with the credentials. Patroni answers
 * these in plain text ("Successfully switched over to ...") or JSON; the text is returned.
 */
export async function patroniCall(
  api: PatroniApi,
  member: string,
  method: 'POST' | 'PATCH',
  path: string,
  body?: unknown,
): Promise<string> {
  const url = api.urls[member];
  if (!url) {
    throw new StepFailure(
      `patroni: no REST URL for ${member} (members with one: ${Object.keys(api.urls).join(', ')})`,
    );
  }
  const text = await requestText(`patroni ${member} ${url}${path}`, request(api, url, method, path, body));
  return text.trim();
}

function request(
  api: PatroniApi,
  base: string,
  method: JsonRequest['method'],
  path: string,
  body?: unknown,
): JsonRequest {
  return {
    method,
    url: `${base.replace(/\/+$/, '')}${path}`,
    ...(api.auth && {
      headers: {
        authorization: `Basic ${Buffer.from(`${api.auth.username}:${api.auth.password}`).toString('base64')}`,
      },
    }),
    body,
    signal: api.signal,
    ...(api.ca && { ca: api.ca }),
    // A switchover waits for the candidate to promote before Patroni answers.
    timeoutMs: api.timeoutMs ?? (method === 'GET' ? DEFAULT_TIMEOUT_MS : 60_000),
  };
}

/** One line of Patroni's GET /history: [timeline, lsn, reason, timestamp, new leader]. */
export type PatroniHistoryEntry = [number, number, string, string?, string?];

/** A read (GET) answered by the first member that answers. */
async function patroniGet<T>(api: PatroniApi, path: string): Promise<T | undefined> {
  const failures: string[] = [];
  for (const [name, url] of Object.entries(api.urls)) {
    try {
      return await requestJson<T>(`patroni ${name} ${url}`, request(api, url, 'GET', path));
    } catch (err) {
      failures.push(err instanceof Error ? err.message : String(err));
    }
  }
  throw new StepFailure(`no Patroni member answered GET ${path}: ${failures.join('; ')}`, {
    retryable: true,
  });
}

/** The cluster's timeline history. */
export const patroniHistory = async (api: PatroniApi): Promise<PatroniHistoryEntry[]> =>
  (await patroniGet<PatroniHistoryEntry[]>(api, '/history')) ?? [];

/** The cluster's dynamic configuration (GET /config), as far as drillbook reads it. */
export const patroniConfig = async (
  api: PatroniApi,
): Promise<{ synchronous_mode?: boolean; synchronous_node_count?: number; ttl?: number }> =>
  (await patroniGet(api, '/config')) ?? {};
