// A local stand-in for the Slack Web API: the methods drillbook uses, Slack-shaped answers,
// bearer-token checks (control endpoints included), 429s on request, every message appended to a JSONL
// file, and the interactive callback: a control call "clicks" a message's button, and the endpoint
// posts Slack's signed `block_actions` payload to the app's request URL, as Slack does.
// Run as a lab process: `node slack-server.js <options-json>`.
import { createHash } from 'node:crypto';
import { slackSignature } from '../connectors/slack-signature.js';
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface SlackServerOptions {
  host: string;
  port: number;
  tokenFile: string;
  /** The app's signing secret: clicks are signed with it (without it, clicks are refused). */
  signingSecretFile?: string;
  messagesFile: string;
}

/** One line of messages.jsonl. */
export interface StoredSlackMessage {
  method: 'chat.postMessage' | 'chat.update';
  channel: string;
  channelName?: string;
  ts: string;
  threadTs?: string;
  text?: string;
  blocks?: unknown;
  attachments?: unknown;
  receivedAt: string;
}

type Params = Record<string, unknown>;
type Answer = { status?: number; headers?: Record<string, string>; body: Params };

const TEAM = {
  team: 'drillbook lab',
  team_id: 'T0DRILLLAB',
  user: 'drillbook',
  user_id: 'U0DRILLBOOK',
  bot_id: 'B0DRILLBOOK',
};

/** Why a request's token is refused (Slack's error names), or undefined when it is the token. */
function authRefusal(given: string | undefined, token: string): 'not_authed' | 'invalid_auth' | undefined {
  return !given ? 'not_authed' : given !== token ? 'invalid_auth' : undefined;
}

/** The messages posted so far, by channel and ts, each also appended to the JSONL file. */
function messageStore(file: string) {
  const messages = new Map<string, StoredSlackMessage>();
  let lastTs = 0;
  return {
    all: () => [...messages.values()],
    get: (channel: string, ts: string) => messages.get(`${channel}/${ts}`),
    /** Slack timestamps: seconds with six decimals, unique and increasing. */
    nextTs() {
      lastTs = Math.max(lastTs + 1, Date.now() * 1000);
      return `${Math.floor(lastTs / 1e6)}.${String(lastTs % 1e6).padStart(6, '0')}`;
    },
    store(message: StoredSlackMessage) {
      messages.set(`${message.channel}/${message.ts}`, message);
      appendFileSync(file, JSON.stringify(message) + '\n', { mode: 0o600 });
    },
  };
}

export function startSlackServer(options: SlackServerOptions): Promise<Server> {
  const token = readFileSync(options.tokenFile, 'utf8').trim();
  const messages = messageStore(options.messagesFile);
  const rateLimit = { remaining: 0, retryAfter: 1 };
  const interactivity = interactiveCallback(options, messages);

  const methods: Record<string, (p: Params) => Answer> = {
    'auth.test': () => ok({ url: `http://${options.host}:${options.port}/`, ...TEAM }),
    'conversations.info': (p) => {
      const channel = channelOf(p.channel);
      return channel
        ? ok({ channel: { id: channel.id, name: channel.name, is_channel: true, is_member: true } })
        : fail('channel_not_found');
    },
    'chat.postMessage': (p) => {
      const channel = channelOf(p.channel);
      if (!channel) return fail('channel_not_found');
      if (!hasContent(p)) return fail('no_text');
      const ts = messages.nextTs();
      const message = {
        method: 'chat.postMessage' as const,
        channel: channel.id,
        channelName: channel.name,
        ts,
        ...content(p),
        threadTs: str(p.thread_ts),
        receivedAt: new Date().toISOString(),
      };
      messages.store(message);
      return ok({ channel: channel.id, ts, message: slackMessage(message) });
    },
    'chat.update': (p) => {
      const channel = channelOf(p.channel);
      const ts = str(p.ts);
      if (!channel) return fail('channel_not_found');
      const original = ts ? messages.get(channel.id, ts) : undefined;
      if (!original || !ts) return fail('message_not_found');
      if (!hasContent(p)) return fail('no_text');
      const message = {
        ...original,
        method: 'chat.update' as const,
        ...content(p),
        receivedAt: new Date().toISOString(),
      };
      messages.store(message);
      return ok({ channel: channel.id, ts, text: message.text, message: slackMessage(message) });
    },
  };

  const handle = async (req: IncomingMessage): Promise<Answer> => {
    const url = new URL(req.url ?? '/', 'http://lab');
    const body = await readBody(req);
    // Anyone on the machine can reach loopback: reading the messages or staging 429s wants the token.
    const refused = url.pathname.startsWith('/_control/') ? authRefusal(bearer(req), token) : undefined;
    if (refused) return { status: 401, body: { ok: false, error: refused } };
    if (url.pathname === '/_control/rate-limit' && req.method === 'POST') {
      const p = parseBody(req, body);
      rateLimit.remaining = Number(p.count ?? 1);
      rateLimit.retryAfter = Number(p.retryAfter ?? 1);
      return ok({ rateLimited: rateLimit.remaining, retryAfter: rateLimit.retryAfter });
    }
    if (url.pathname === '/_control/messages' && req.method === 'GET')
      return ok({ messages: messages.all() });
    const interactive = await interactivity(url.pathname, parseBody(req, body));
    if (interactive) return interactive;
    const method = url.pathname.startsWith('/api/') ? url.pathname.slice('/api/'.length) : undefined;
    if (!method || req.method !== 'POST')
      return { status: 404, body: { ok: false, error: 'unknown_method' } };
    if (rateLimit.remaining > 0) {
      rateLimit.remaining -= 1;
      return {
        status: 429,
        headers: { 'Retry-After': String(rateLimit.retryAfter) },
        body: { ok: false, error: 'ratelimited' },
      };
    }
    const params = parseBody(req, body);
    const refusedMethod = authRefusal(bearer(req) ?? str(params.token), token);
    if (refusedMethod) return fail(refusedMethod);
    const fn = methods[method];
    return fn ? fn(params) : fail('unknown_method');
  };

  const server = createServer((req, res) => {
    handle(req)
      .then((answer) => reply(res, answer))
      .catch((err: unknown) =>
        reply(res, { status: 400, body: { ok: false, error: 'invalid_request', detail: String(err) } }),
      );
  });
  return new Promise((resolveStart, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolveStart(server));
  });
}

/**
 * The control calls of the interactive callback: setting the app's request URL (the app may listen
 * on any port), and clicking a posted message's button.
 */
function interactiveCallback(options: SlackServerOptions, messages: ReturnType<typeof messageStore>) {
  const signingSecret = options.signingSecretFile && readFileSync(options.signingSecretFile, 'utf8').trim();
  let requestUrl: string | undefined;
  return async (path: string, p: Params): Promise<Answer | undefined> => {
    if (path === '/_control/interactivity') {
      requestUrl = str(p.url);
      return ok({ requestUrl });
    }
    if (path !== '/_control/click') return undefined;
    if (!requestUrl || !signingSecret) return fail('no_request_url');
    const c = p as unknown as ClickRequest;
    const message = messages.all().find((m) => m.ts === c.ts);
    const button = message && findButton(message.blocks, c.actionId);
    if (!message || !button) return fail('button_not_found');
    return ok(await click(requestUrl, signingSecret, message, button, c));
  };
}

/** A click asked for by a control call: which message's which button, by whom. */
interface ClickRequest {
  ts: string;
  actionId: string;
  user: { id: string; username?: string };
}

interface Button {
  action_id: string;
  value?: string;
  block_id?: string;
}

function findButton(blocks: unknown, actionId: string): Button | undefined {
  if (!Array.isArray(blocks)) return undefined;
  for (const block of blocks as { block_id?: string; elements?: unknown }[]) {
    if (!Array.isArray(block.elements)) continue;
    const b = (block.elements as Button[]).find((e) => e.action_id === actionId);
    if (b) return { ...b, block_id: block.block_id };
  }
  return undefined;
}

/**
 * Posts Slack's interactive payload for a button click to the app, signed (v0) as Slack signs it;
 * answers what the app said and the request itself, so a test can replay it.
 */
async function click(
  requestUrl: string,
  secret: string,
  message: StoredSlackMessage,
  button: Button,
  p: ClickRequest,
) {
  const payload = {
    type: 'block_actions',
    team: { id: TEAM.team_id, domain: 'drillbook-lab' },
    user: { id: p.user.id, username: p.user.username, team_id: TEAM.team_id },
    api_app_id: 'A0DRILLBOOK',
    container: { type: 'message', message_ts: message.ts, channel_id: message.channel },
    channel: { id: message.channel, name: message.channelName },
    message: slackMessage(message),
    trigger_id: `${Date.now()}.lab`,
    actions: [
      {
        type: 'button',
        action_id: button.action_id,
        block_id: button.block_id,
        value: button.value,
        action_ts: String(Date.now() / 1000),
      },
    ],
  };
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const timestamp = String(Math.floor(Date.now() / 1000));
  const headers = {
    'Content-Type': 'application/x-www-form-urlencoded',
    'X-Slack-Request-Timestamp': timestamp,
    'X-Slack-Signature': slackSignature(secret, timestamp, body),
  };
  const res = await fetch(requestUrl, { method: 'POST', headers, body });
  return { status: res.status, answer: await res.text(), request: { url: requestUrl, headers, body } };
}

function ok(body: Params): Answer {
  return { body: { ok: true, ...body } };
}

function fail(error: string): Answer {
  return { body: { ok: false, error } };
}

function reply(res: ServerResponse, answer: Answer): void {
  res.writeHead(answer.status ?? 200, {
    'Content-Type': 'application/json; charset=utf-8',
    ...answer.headers,
  });
  res.end(JSON.stringify(answer.body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** @slack/web-api posts form-encoded fields (objects JSON-encoded inside them); JSON bodies work too. */
function parseBody(req: IncomingMessage, body: string): Params {
  if (!body) return {};
  if ((req.headers['content-type'] ?? '').includes('application/json')) return JSON.parse(body) as Params;
  const params: Params = {};
  for (const [key, value] of new URLSearchParams(body)) params[key] = decodeJsonField(key, value);
  return params;
}

function decodeJsonField(key: string, value: string): unknown {
  if (key !== 'blocks' && key !== 'attachments' && key !== 'metadata') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function bearer(req: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** `#drills`, `drills` or an ID `C...` all name a channel; IDs are derived from names. */
function channelOf(value: unknown): { id: string; name: string } | undefined {
  const given = str(value);
  if (!given) return undefined;
  if (/^[CGD][A-Z0-9]{8,}$/.test(given)) return { id: given, name: given };
  const name = given.replace(/^#/, '');
  const id = 'C' + createHash('sha256').update(name).digest('hex').slice(0, 10).toUpperCase();
  return { id, name };
}

function hasContent(p: Params): boolean {
  return Boolean(str(p.text) || p.blocks || p.attachments);
}

function content(p: Params): Pick<StoredSlackMessage, 'text' | 'blocks' | 'attachments'> {
  return { text: str(p.text), blocks: p.blocks, attachments: p.attachments };
}

function slackMessage(m: StoredSlackMessage): Params {
  return {
    type: 'message',
    user: TEAM.user_id,
    bot_id: TEAM.bot_id,
    text: m.text ?? '',
    ts: m.ts,
    thread_ts: m.threadTs,
    blocks: m.blocks,
    attachments: m.attachments,
  };
}

// Entry point when started as a lab process.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const options = JSON.parse(process.argv[2] ?? '{}') as SlackServerOptions;
  startSlackServer(options).then(
    () => console.log(`slack endpoint listening on http://${options.host}:${options.port}/api/`),
    (err: unknown) => {
      console.error(`slack endpoint failed to start: ${String(err)}`);
      process.exit(1);
    },
  );
}
