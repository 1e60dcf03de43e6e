// The triggers file loaded like every drillbook document (located errors), and an Alertmanager
// alert matched against it: which trigger, which runbook, which environment, which inputs.
import { dirname, resolve } from 'node:path';
import { UserError, UserErrors } from '../errors.js';
import { checkFile } from '../runbook/check.js';
import { render, renderString } from '../runbook/expressions.js';
import type { Trigger, Triggers } from '../schema/triggers.js';

export interface LoadedTriggers {
  file: string;
  data: Triggers;
  /** The inventory the triggers name (resolved), if any. */
  inventory?: string;
}

/** Loads and checks the file (schema and rules, every problem as file:line:col); throws on errors. */
export function loadTriggers(file: string): LoadedTriggers {
  const { doc, errors } = checkFile(file, { expected: 'Triggers' });
  if (errors.length) throw errors.length === 1 ? errors[0]! : new UserErrors(errors);
  if (doc?.kind !== 'Triggers') throw new UserError(`${file}: not a Triggers file`);
  const base = dirname(resolve(file));
  return {
    file: resolve(file),
    data: doc.data,
    inventory: doc.data.inventory ? resolve(base, doc.data.inventory) : undefined,
  };
}

/** One alert of an Alertmanager webhook (payload version 4). */
export interface Alert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  generatorURL?: string;
  fingerprint: string;
}

const matches = (pattern: string, value: string | undefined) =>
  value !== undefined &&
  (pattern.startsWith('~') ? new RegExp(`^(?:${pattern.slice(1)})$`).test(value) : pattern === value);

/** The first trigger whose every matcher matches the alert's labels. */
export const triggerFor = (triggers: LoadedTriggers, alert: Alert): Trigger | undefined =>
  triggers.data.triggers.find((t) =>
    Object.entries(t.match).every(([label, pattern]) => matches(pattern, alert.labels[label])),
  );

/** What an alert starts: the runbook (firing, or onResolved), its environment and inputs. */
export interface Planned {
  trigger: Trigger;
  runbookFile: string;
  environment: string;
  inputs: Record<string, unknown>;
}

/** Renders the trigger against `alert` (the expression engine, with `alert` as its only root). */
export function planFor(triggers: LoadedTriggers, trigger: Trigger, alert: Alert): Planned | undefined {
  const runbook = alert.status === 'resolved' ? trigger.onResolved : trigger.runbook;
  if (!runbook) return undefined;
  const ctx = { alert };
  return {
    trigger,
    runbookFile: resolve(dirname(triggers.file), runbook),
    environment: String(renderString(trigger.environment, ctx) ?? ''),
    inputs: (render(trigger.inputs ?? {}, ctx) ?? {}) as Record<string, unknown>,
  };
}

/** The alert's identity: the same alert firing again (a repeat, an HA peer's copy) has the same key. */
export const alertKey = (alert: Alert) => `${alert.fingerprint}@${alert.startsAt}/${alert.status}`;

/** Checks an Alertmanager payload's shape; returns its alerts or says what is wrong. */
export function alertsOf(body: unknown): Alert[] | string {
  if (!body || typeof body !== 'object') return 'the body must be a JSON object';
  const b = body as Record<string, unknown>;
  if (b.version !== '4') return `unsupported payload version ${JSON.stringify(b.version)} (expected "4")`;
  if (!Array.isArray(b.alerts)) return '"alerts" must be a list';
  const out: Alert[] = [];
  for (const [i, a] of (b.alerts as unknown[]).entries()) {
    const x = (a ?? {}) as Record<string, unknown>;
    const strings = (v: unknown) =>
      v && typeof v === 'object' && Object.values(v).every((s) => typeof s === 'string');
    if (x.status !== 'firing' && x.status !== 'resolved')
      return `alerts[${i}].status must be firing or resolved`;
    if (typeof x.fingerprint !== 'string' || !x.fingerprint) return `alerts[${i}].fingerprint is missing`;
    if (typeof x.startsAt !== 'string' || Number.isNaN(Date.parse(x.startsAt)))
      return `alerts[${i}].startsAt must be a time`;
    if (!strings(x.labels)) return `alerts[${i}].labels must map names to strings`;
    if (x.annotations !== undefined && !strings(x.annotations))
      return `alerts[${i}].annotations must map names to strings`;
    out.push({
      status: x.status,
      labels: x.labels as Record<string, string>,
      annotations: (x.annotations ?? {}) as Record<string, string>,
      startsAt: x.startsAt,
      endsAt: typeof x.endsAt === 'string' ? x.endsAt : undefined,
      generatorURL: typeof x.generatorURL === 'string' ? x.generatorURL : undefined,
      fingerprint: x.fingerprint,
    });
  }
  return out;
}
