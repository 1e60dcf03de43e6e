// One shape for every AWS SDK failure (Route 53, S3, RDS): a one-line StepFailure naming the call,
// the service's error code and the HTTP status; retryable when the SDK or the status says so.
import { StepFailure, errorMessage } from '../errors.js';

export interface AwsError {
  name?: string;
  $retryable?: { throttling?: boolean };
  $metadata?: { httpStatusCode?: number };
}

/** Error codes AWS services use for "slow down": retried with backoff, never a failure of the step's own. */
const THROTTLING_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'SlowDown',
  'PriorRequestNotComplete',
]);

export const isThrottling = (err: unknown): boolean => {
  const e = err as AwsError;
  return Boolean(e?.$retryable?.throttling) || THROTTLING_CODES.has(e?.name ?? '');
};

/** The service's error code (`InvalidDBClusterStateFault`), when the SDK gave one. */
export const awsErrorCode = (err: unknown): string | undefined => {
  const name = (err as AwsError)?.name;
  return name && name !== 'Error' ? name : undefined;
};

/** `<what> failed: <Code>: <message> (HTTP <status>)`, on one line, with the code kept. */
export function awsFailure(what: string, err: unknown): StepFailure {
  const e = err as AwsError;
  const status = e?.$metadata?.httpStatusCode ?? 0;
  const code = awsErrorCode(err);
  const message = errorMessage(err).replace(/\s*\n\s*/g, ' ');
  return new StepFailure(
    `${what} failed: ${code ? `${code}: ` : ''}${message}${status ? ` (HTTP ${status})` : ''}`,
    {
      retryable: Boolean(e?.$retryable) || status >= 500 || status === 429,
      cause: err,
      ...(code && { code }),
    },
  );
}
