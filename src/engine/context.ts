// The run context expressions read (inputs, env, steps, run, secrets), and the secret names a
// runbook reads, so they are resolved (and registered for redaction) before the first step.
import type { EnvContext, Outputs } from '../actions/types.js';
import { evaluate, parseSite, references, renderString, type Context } from '../runbook/expressions.js';
import { sitesOf, stringsIn } from '../runbook/rules/expressions.js';
import type { Runbook, Step } from '../runbook/schema.js';

export interface StepResult {
  status: 'succeeded' | 'failed' | 'skipped';
  outputs: Outputs;
  durationMs?: number;
}

/** `run.*` fields; the names match RUN_FIELDS of the expression rules. */
export interface RunFields {
  id: string;
  operator: string;
  startedAt: string;
  runbook: string;
  dryRun: boolean;
  environment: string;
  failedStep?: string;
  error?: string;
}

export interface RunContext extends Context {
  inputs: Record<string, unknown>;
  env: EnvContext;
  steps: Record<string, StepResult>;
  run: RunFields;
  secrets: Record<string, string>;
}

/** Names read as `secrets.NAME` anywhere in the runbook's steps. */
export function secretNames(runbook: Runbook): Set<string> {
  return new Set(
    [...runbook.steps, ...(runbook.rollback ?? [])].flatMap((step) => [...stepSecretNames(step)]),
  );
}

/** Per step, once: the run reads them at its start and each shell step's child environment again. */
const namesOfStep = new WeakMap<Step, Set<string>>();

/** Names one step reads as `secrets.NAME` (its children get those DRILLBOOK_SECRET_* and no other). */
export function stepSecretNames(step: Step): Set<string> {
  const known = namesOfStep.get(step);
  if (known) return known;
  const names = new Set<string>();
  namesOfStep.set(step, names);
  for (const [text, path] of stringsIn(step, [])) {
    // Parsing is the cost, and a text that never spells `secrets` cannot read one.
    if (!text.includes('secrets')) continue;
    for (const site of sitesOf(text, path.at(-1))) {
      for (const [root, name] of references(parseSite(site))) if (root === 'secrets' && name) names.add(name);
    }
  }
  return names;
}

/** A condition's value: a bare expression (`x == 1`) or a `${{ }}` string. */
export function evaluateCondition(text: string, ctx: Context): unknown {
  const sites = sitesOf(text, 'when');
  const only = sites[0];
  if (sites.length === 1 && only && only.start < 0) return evaluate(parseSite(only), ctx);
  return renderString(text, ctx);
}
