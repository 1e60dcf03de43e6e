// Slack through the official @slack/web-api client (loaded on first use). Rate limits (429 and
// Retry-After) are waited out by the client's own retry; failures become step failures that name
// the workspace endpoint and channel, never the token.
import type { Logger, WebClient } from '@slack/web-api';
import type { Keep, Redactor } from './redact.js';
import { StepFailure, errorMessage } from '../errors.js';
import type { Slack } from '../schema/inventory.js';

export interface SlackMessage {
  channel: string;
  text: string;
  blocks?: unknown[];
  /** Replies in this thread. */
  threadTs?: string;
}

export interface SlackOptions {
  /** Resolves secret references and registers the value for redaction (ActionContext.secret). */
  secret(ref: string): Promise<string>;
  /** Every message's text and blocks go through it before they leave the process. */
  redactor: Redactor;
  signal?: AbortSignal;
  /** Where the client's notices (rate limited, retrying) go. */
  log?(message: string): void;
  /** Retries after a 429 or a failed request (each 429 waits its Retry-After first). */
  retries?: number;
}

export interface SlackPoster {
  /** Posts a message; returns the channel id and the message's ts (a thread's id). */
  post(message: SlackMessage): Promise<{ channel: string; ts: string }>;
  /** Replaces a posted message's text and blocks (a run's header, kept current in place). */
  update(message: Omit<SlackMessage, 'threadTs'> & { ts: string }): Promise<void>;
}

const DEFAULT_RETRIES = 2;
const REQUEST_TIMEOUT_MS = 10_000;
const DEFAULT_API_URL = 'https://slack.com/api/';

export async function slackPoster(slack: Slack, options: SlackOptions): Promise<SlackPoster> {
  const { WebClient, LogLevel } = await import('@slack/web-api');
  const log = options.log ?? (() => undefined);
  const logger: Logger = {
    debug: () => undefined,
    info: (...m: unknown[]) => log(`slack: ${m.join(' ')}`),
    warn: (...m: unknown[]) => log(`slack: ${m.join(' ')}`),
    error: (...m: unknown[]) => log(`slack: ${m.join(' ')}`),
    setLevel: () => undefined,
    getLevel: () => LogLevel.INFO,
    setName: () => undefined,
  };
  const client: WebClient = new WebClient(await options.secret(slack.token), {
    slackApiUrl: slack.apiUrl,
    logger,
    timeout: REQUEST_TIMEOUT_MS,
    retryConfig: {
      retries: options.retries ?? DEFAULT_RETRIES,
      factor: 1,
      minTimeout: 200,
      maxTimeout: 2_000,
    },
  });
  const where = `slack ${slack.apiUrl ?? DEFAULT_API_URL}`;
  const text = (t: string) => options.redactor.redactString(t);
  const blocks = (b: unknown[] | undefined) => options.redactor.redact(b, blockKitStructure) as never;

  return {
    async post(message) {
      const call = client.chat.postMessage({
        channel: message.channel,
        text: text(message.text),
        blocks: blocks(message.blocks),
        thread_ts: message.threadTs,
        unfurl_links: false,
      });
      try {
        const answer = await abortable(call, options.signal);
        if (!answer.channel || !answer.ts)
          throw new Error('chat.postMessage answered without channel and ts');
        return { channel: answer.channel, ts: answer.ts };
      } catch (err) {
        if (options.signal?.aborted) throw options.signal.reason;
        throw slackFailure(err, `${where} ${message.channel}: chat.postMessage`);
      }
    },
    async update(message) {
      const call = client.chat.update({
        channel: message.channel,
        ts: message.ts,
        text: text(message.text),
        blocks: blocks(message.blocks),
      });
      try {
        await abortable(call, options.signal);
      } catch (err) {
        if (options.signal?.aborted) throw options.signal.reason;
        throw slackFailure(err, `${where} ${message.channel}: chat.update`);
      }
    },
  };
}

/** Block Kit's `type` fields name the kind of block or text: kept, so the message stays well-formed. */
const blockKitStructure: Keep = (path) => path === 'type' || path.endsWith('.type');

/** The client takes no AbortSignal: a timed-out step stops waiting for it (the request is left to finish). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Slack's own refusals (invalid_auth, channel_not_found, ...) will not pass on retry; network
 * errors, HTTP errors and rate limits that outlasted the client's retries may.
 */
function slackFailure(err: unknown, what: string): StepFailure {
  const e = err as { code?: string; data?: { error?: string }; statusCode?: number };
  if (e.code === 'slack_webapi_platform_error') {
    return new StepFailure(`${what} was refused: ${e.data?.error ?? 'unknown error'}`, { retryable: false });
  }
  const detail = e.code === 'slack_webapi_http_error' ? `HTTP ${e.statusCode}` : errorMessage(err);
  return new StepFailure(`${what} failed: ${detail}`, { retryable: true, cause: err });
}
