// JSON over HTTP with fetch, for the REST APIs drillbook drives (PowerDNS, Cloudflare, webhooks).
// Failures name the far side and its answer; request headers (API keys) never appear in them.
import { request as httpsRequest } from 'node:https';
import { StepFailure, errorMessage } from '../errors.js';

export interface JsonRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  signal?: AbortSignal;
  /** Per request; APIs answer in well under a second when healthy. */
  timeoutMs?: number;
  /** PEM of a private CA that signed the server's certificate (https only). */
  ca?: string;
}

interface Answer {
  ok: boolean;
  status: number;
  statusText: string;
  text: string;
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
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  let response: Answer;
  try {
    response = req.ca ? await viaHttps(req, signal) : await viaFetch(req, signal);
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
  const { text } = response;
  if (!response.ok) {
    const detail = text.trim().slice(0, MAX_DETAIL) || response.statusText;
    throw new StepFailure(`${what}: ${req.method} answered HTTP ${response.status}: ${detail}`, {
      retryable: response.status === 429 || response.status >= 500,
      code: `http-${response.status}`,
    });
  }
  return text;
}

const headersOf = (req: JsonRequest) => ({
  accept: 'application/json',
  ...(req.body === undefined ? {} : { 'content-type': 'application/json' }),
  ...req.headers,
});

async function viaFetch(req: JsonRequest, signal: AbortSignal): Promise<Answer> {
  const r = await fetch(req.url, {
    method: req.method,
    headers: headersOf(req),
    body: req.body === undefined ? undefined : JSON.stringify(req.body),
    signal,
  });
  return { ok: r.ok, status: r.status, statusText: r.statusText, text: await r.text() };
}

/** fetch takes no per-request CA in Node 20, so a private CA goes through node:https. */
function viaHttps(req: JsonRequest, signal: AbortSignal): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const r = httpsRequest(
      req.url,
      { method: req.method, headers: headersOf(req), ca: req.ca, signal },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          resolve({ ok: status >= 200 && status < 300, status, statusText: res.statusMessage ?? '', text });
        });
      },
    );
    // Like fetch's errors: the reason is the cause (a refused connection, an unknown CA).
    r.on('error', (err) => reject(Object.assign(new Error(err.message), { cause: err })));
    r.end(req.body === undefined ? undefined : JSON.stringify(req.body));
  });
}
