// The RDS API (RDS Multi-AZ clusters, Aurora, Aurora Global Database) through the AWS SDK v3, for
// the environment's `cloud:`. Every call goes through `call`: throttling is retried here with
// backoff (the SDK's own retries are off, so there is one policy, and tests see every attempt);
// any other error is a one-line StepFailure with the service's code, which `retry.nonRetryable`
// may name.
import type { RDSClient } from '@aws-sdk/client-rds';
import pRetry from 'p-retry';
import { StepFailure, UserError } from '../errors.js';
import type { Cloud, EnvContext } from '../schema/inventory.js';
import { awsCredentials } from './aws-credentials.js';
import { awsFailure, isThrottling } from './aws-errors.js';
import { pollUntil } from './poll.js';

/** Throttled calls: up to 5 attempts, 250 ms, 500 ms, 1 s, 2 s apart (with jitter). */
const THROTTLE_RETRIES = 4;
const THROTTLE_FIRST_DELAY_MS = 250;

/** The SDK module, loaded on first use: validate and plan never load it (fast start-up). */
type RdsSdk = typeof import('@aws-sdk/client-rds');

export interface RdsApi {
  sdk: RdsSdk;
  client: RDSClient;
  /** What the messages name: `rds eu-west-1`. */
  target: string;
  /** Runs one SDK call; `what` names it in failures (`FailoverDBCluster orders`). */
  call<T>(what: string, send: (abortSignal: AbortSignal | undefined) => Promise<T>): Promise<T>;
  close(): void;
}

/** The environment's cloud, or a clear error naming what the inventory lacks. */
export function awsCloud(env: EnvContext, stepId: string): Cloud {
  const cloud = env.cloud;
  if (!cloud) {
    throw new UserError(
      `step ${stepId}: environment ${env.name} has no cloud: { provider: aws, region } in the inventory`,
    );
  }
  if (Boolean(cloud.accessKeyId) !== Boolean(cloud.secretAccessKey)) {
    throw new UserError(
      `environment ${env.name} cloud: give both accessKeyId and secretAccessKey, or neither`,
    );
  }
  return cloud;
}

export async function rdsApi(
  cloud: Cloud,
  options: { secret(ref: string): Promise<string>; signal?: AbortSignal },
): Promise<RdsApi> {
  const credentials = await awsCredentials(cloud.accessKeyId, cloud.secretAccessKey, options.secret);
  const sdk = await import('@aws-sdk/client-rds');
  const client = new sdk.RDSClient({
    region: cloud.region,
    endpoint: cloud.endpoint,
    credentials,
    maxAttempts: 1,
  });
  const target = `rds ${cloud.region}`;
  const { signal } = options;
  return {
    sdk,
    client,
    target,
    async call(what, send) {
      try {
        return await pRetry(() => send(signal), {
          retries: THROTTLE_RETRIES,
          minTimeout: THROTTLE_FIRST_DELAY_MS,
          factor: 2,
          randomize: true,
          signal,
          shouldRetry: ({ error }) => isThrottling(error),
        });
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        throw awsFailure(`${target}: ${what}`, err);
      }
    },
    close: () => client.destroy(),
  };
}

/** Polling of a failover: 1 s, then 1.5 times longer each time up to 15 s (AWS asks for no faster). */
const WAIT_FIRST_INTERVAL_MS = 1000;
const WAIT_MAX_INTERVAL_MS = 15_000;
/** A step without a timeout still stops: no failover takes this long. */
const WAIT_LIMIT_MS = 30 * 60_000;

/**
 * Polls `look` with backoff until it says the wanted state is reached, within the step's timeout
 * (its signal) and WAIT_LIMIT_MS. `look` returns what it saw: each change is logged (the journal
 * shows how the failover went, up to the timeout), and the last is in the failure message when the
 * state never comes. Resolves with how long it waited.
 */
export async function waitForState(
  what: string,
  look: () => Promise<{ reached: boolean; seen: string }>,
  { signal, log }: { signal: AbortSignal; log(message: string): void },
): Promise<number> {
  const started = performance.now();
  let seen = 'nothing yet';
  const notReached = (why: string) =>
    new StepFailure(`${what}: not reached ${why}; last seen: ${seen}`, { code: 'timeout' });
  try {
    const reached = await pollUntil(
      async () => {
        const state = await look();
        if (state.seen !== seen) log(state.seen);
        seen = state.seen;
        return state.reached ? true : undefined;
      },
      {
        timeoutMs: WAIT_LIMIT_MS,
        intervalMs: WAIT_FIRST_INTERVAL_MS,
        backoff: 1.5,
        maxIntervalMs: WAIT_MAX_INTERVAL_MS,
        signal,
      },
    );
    if (!reached) throw notReached(`after ${WAIT_LIMIT_MS / 60_000} minutes`);
  } catch (err) {
    // The step's timeout aborts the signal with a timeout failure: say what the cluster looked like.
    if (signal.aborted && signal.reason instanceof StepFailure && signal.reason.code === 'timeout')
      throw notReached(`before the step's ${signal.reason.message}`);
    throw err;
  }
  return Math.round(performance.now() - started);
}

/** Runs `use` with an RDS API for the step's environment, and closes it after. */
export async function withRdsApi<T>(
  ctx: { env: EnvContext; stepId: string; signal: AbortSignal; secret(ref: string): Promise<string> },
  use: (api: RdsApi) => Promise<T>,
): Promise<T> {
  const api = await rdsApi(awsCloud(ctx.env, ctx.stepId), { secret: ctx.secret, signal: ctx.signal });
  try {
    return await use(api);
  } finally {
    api.close();
  }
}
