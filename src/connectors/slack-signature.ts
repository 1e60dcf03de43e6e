// Slack's request signing (v0): HMAC-SHA256 of `v0:<timestamp>:<raw body>` with the app's signing
// secret, sent as X-Slack-Signature with X-Slack-Request-Timestamp. Slack signs, drillbook checks;
// the lab's Slack stand-in signs the clicks it sends.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Slack's advice: older requests are refused, so a captured one cannot be replayed later. */
export const SLACK_MAX_AGE_S = 5 * 60;

export const slackSignature = (secret: string, timestamp: string, body: string) =>
  'v0=' + createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');

/** Equal strings, in time that depends neither on where they differ nor on their lengths. */
export function constantTimeEqual(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** Why a request is refused, or undefined when one of the secrets signed it within the time limit. */
export function slackRefusal(
  secrets: readonly string[],
  headers: { timestamp?: string; signature?: string },
  body: string,
  nowS = Date.now() / 1000,
): string | undefined {
  const { timestamp, signature } = headers;
  if (!timestamp || !signature) return 'unsigned request';
  const ts = Number(timestamp);
  if (!/^\d+$/.test(timestamp) || Math.abs(nowS - ts) > SLACK_MAX_AGE_S)
    return 'request timestamp more than 5 minutes away';
  if (!secrets.some((s) => constantTimeEqual(slackSignature(s, timestamp, body), signature)))
    return 'wrong signature';
  return undefined;
}
