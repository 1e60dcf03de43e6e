// JSON over HTTP with fetch, for the REST APIs drillbook drives (PowerDNS, Cloudflare, webhooks).
// Failures name the far side and its answer; request headers (API keys) never appear in them.
import { StepFailure, errorMessage } from '../errors.js';

export interface JsonRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  signal?: AbortSignal;
  /** Per request; APIs answer in well under a second when healthy. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_DETAIL = 300;

/**
 * Sends a JSON request and returns the parsed answer (undefined for an empty body).
 * `what` names the target in errors, e.g. `powerdns http://127.0.0.1:8081 zone lab.`.
 */
export async function requestJson<T>(what: string, req: JsonRequest): Promise<T | undefined> {
  const text = await requestText(what, req);
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new StepFailure(`${what}: ${req.method} answered with invalid JSON: ${text.slice(0, MAX_DETAIL)}`);
  }
}

/** Sends a request with a JSON body; any 2xx answer is success and its text is returned. */
export async function requestText(what: string, req: JsonRequest): Promise<string> {
  const timeout = AbortSignal.timeout(req.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetch(req.url, {
      method: req.method,
      headers: {
        accept: 'application/json',
        ...(req.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...req.headers,
      },
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
      signal: req.signal ? AbortSignal.any([req.signal, timeout]) : timeout,
    });
  } catch (err) {
    if (req.signal?.aborted) throw req.signal.reason;
    const cause = (err as { cause?: unknown }).cause;
    // A refused or timed-out connection may pass; the caller's retry policy decides.
    throw new StepFailure(`${what}: ${req.method} failed: ${errorMessage(cause ?? err)}`, {
      retryable: true,
      code: (cause as { code?: string } | undefined)?.code,
      cause: err,
    });
  }
  const text = await response.text();
  if (!response.ok) {
    const detail = text.trim().slice(0, MAX_DETAIL) || response.statusText;
    throw new StepFailure(`${what}: ${req.method} answered HTTP ${response.status}: ${detail}`, {
      retryable: response.status === 429 || response.status >= 500,
      code: `http-${response.status}`,
    });
  }
  return text;
}
