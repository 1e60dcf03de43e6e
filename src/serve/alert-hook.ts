// POST /hooks/alertmanager: authenticated (bearer token, optional HMAC of the body), then each alert
// of the payload is matched, deduplicated and either starts its runbook or is recorded with why not.
import { createHmac } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { constantTimeEqual } from '../connectors/slack-signature.js';
import { errorMessage } from '../errors.js';
import { lockHolder } from '../engine/lock.js';
import type { Inventory } from '../schema/inventory.js';
import type { Output } from '../system/output.js';
import type { AlertClaims } from './alert-claims.js';
import { startAlertRun, type AlertRunContext } from './alert-runs.js';
import type { Coordination } from '../schedule/coordination.js';
import { alertKey, alertsOf, planFor, triggerFor, type Alert, type LoadedTriggers } from './triggers.js';

export interface AlertHookContext extends AlertRunContext {
  triggers: LoadedTriggers;
  inventory: Inventory;
  token: string;
  hmacSecret?: string;
  claims: { of(coordination: Coordination | undefined): AlertClaims };
  /** Runs this process started and that have not ended, by run id. */
  running: Map<string, { environment: string; done: Promise<number> }>;
  /** Each recorded alert, also appended to <state>/serve/alerts.jsonl. */
  record(entry: AlertRecord): void;
}

export interface AlertRecord {
  at: string;
  key: string;
  alertname?: string;
  status: Alert['status'];
  /** Alertmanager's startsAt: when the alert began firing. */
  startsAt?: string;
  outcome:
    | 'started'
    | 'deduplicated'
    | 'busy'
    | 'unmatched'
    | 'resolved-ignored'
    | 'unknown-environment'
    | 'refused';
  trigger?: string;
  environment?: string;
  runId?: string;
  detail?: string;
}

export type HookAnswer = { status: number; body: Record<string, unknown> };

/** Why the request is not Alertmanager's, or undefined. */
export function alertAuthRefusal(
  c: Pick<AlertHookContext, 'token' | 'hmacSecret'>,
  headers: Record<string, string | string[] | undefined>,
  body: string,
): string | undefined {
  const auth = /^Bearer\s+(.+)$/i.exec(String(headers.authorization ?? ''));
  if (!auth || !constantTimeEqual(auth[1]!, c.token)) return 'missing or wrong bearer token';
  if (c.hmacSecret) {
    const expected = 'sha256=' + createHmac('sha256', c.hmacSecret).update(body).digest('hex');
    if (!constantTimeEqual(String(headers['x-drillbook-signature'] ?? ''), expected))
      return 'wrong body signature';
  }
  return undefined;
}

export async function handleAlerts(c: AlertHookContext, body: string): Promise<HookAnswer> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    return { status: 400, body: { error: `malformed JSON: ${errorMessage(err)}` } };
  }
  const alerts = alertsOf(parsed);
  if (typeof alerts === 'string') return { status: 400, body: { error: alerts } };
  const results: AlertRecord[] = [];
  for (const alert of alerts) {
    c.metrics.alertReceived(alert.status);
    const entry = await decide(c, alert);
    c.metrics.alertOutcome(entry.outcome);
    c.record(entry);
    results.push(entry);
  }
  return { status: 202, body: { alerts: results } };
}

async function decide(c: AlertHookContext, alert: Alert): Promise<AlertRecord> {
  const base = {
    at: new Date().toISOString(),
    key: alertKey(alert),
    alertname: alert.labels.alertname,
    status: alert.status,
    startsAt: alert.startsAt,
  };
  const trigger = triggerFor(c.triggers, alert);
  if (!trigger) return { ...base, outcome: 'unmatched' };
  const at = { ...base, trigger: trigger.name };
  let planned;
  try {
    planned = planFor(c.triggers, trigger, alert);
  } catch (err) {
    return { ...at, outcome: 'refused', detail: errorMessage(err) };
  }
  if (!planned) return { ...at, outcome: 'resolved-ignored', detail: 'no onResolved runbook' };
  const environment = planned.environment;
  const env = c.inventory.environments[environment];
  if (!env)
    return {
      ...at,
      environment,
      outcome: 'unknown-environment',
      detail: `the inventory has no environment "${environment}"`,
    };
  const claim = await c.claims.of(env.coordination).claim(base.key, environment);
  if (!claim.claimed)
    return { ...at, environment, outcome: 'deduplicated', detail: `claimed by ${claim.by}` };
  const mine = [...c.running].find(([, r]) => r.environment === environment);
  const holder = mine ? { runId: mine[0] } : lockHolder(c.stateDir, environment);
  if (holder)
    return {
      ...at,
      environment,
      outcome: 'busy',
      detail: `run ${holder.runId} holds the environment; not queued`,
    };
  try {
    const { runId, done } = startAlertRun(planned, alert, c);
    c.running.set(runId, { environment, done });
    void done.finally(() => c.running.delete(runId));
    return { ...at, environment, outcome: 'started', runId };
  } catch (err) {
    return { ...at, environment, outcome: 'refused', detail: errorMessage(err) };
  }
}

/** Appends each record to <state>/serve/alerts.jsonl and prints it as one JSON line. */
export function alertRecorder(stateDir: string, io: Output) {
  const dir = resolve(stateDir, 'serve');
  return (entry: AlertRecord) => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    appendFileSync(resolve(dir, 'alerts.jsonl'), JSON.stringify(entry) + '\n', { mode: 0o600 });
    io.out(JSON.stringify({ event: 'alert', ...entry }));
  };
}
