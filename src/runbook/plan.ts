// `plan`: what a run would do, step by step, with inputs rendered and nothing connected to.
import { REDACTED } from '../connectors/redact.js';
import { formatDuration, parseDuration } from '../duration.js';
import type { Step } from './schema.js';
import { stepBudgetTotal } from './rules/budget-total.js';
import { sitesOf } from './rules/expressions.js';
import { evaluate, mapStrings, parseSite, references, type Context } from './expressions.js';
import type { PreparedRun } from './prepare.js';

export interface PlannedStep {
  id: string;
  name?: string;
  kind: string;
  budget?: string;
  timeout?: string;
  retry?: string;
  continueOnError: boolean;
  when?: string;
  /** `with:` rendered where possible; values known only at run time shown as ⟨expression⟩. */
  with: unknown;
}

export interface Plan {
  runbook: string;
  environment: { name: string; label: string };
  inputs: Record<string, unknown>;
  rto?: string;
  rpo?: number;
  budgetTotalMs: number;
  steps: PlannedStep[];
  rollback: PlannedStep[];
  warnings: string[];
}

export function buildPlan(run: PreparedRun): Plan {
  const ctx: Context = { inputs: run.inputs, env: run.env, steps: {}, run: {}, secrets: {} };
  const plan = (s: Step): PlannedStep => ({
    id: s.id,
    name: s.name,
    kind: s.kind,
    budget: s.budget,
    timeout: s.timeout,
    retry: s.retry ? describeRetry(s.retry) : undefined,
    continueOnError: s.continueOnError ?? false,
    when: s.when,
    with: renderForPlan(s.with, ctx),
  });
  return {
    runbook: run.runbook.metadata.name,
    environment: { name: run.env.name, label: run.env.label },
    inputs: run.inputs,
    rto: run.runbook.objectives?.rto,
    rpo: run.runbook.objectives?.rpo,
    budgetTotalMs: stepBudgetTotal(run.runbook.steps),
    steps: run.runbook.steps.map(plan),
    rollback: (run.runbook.rollback ?? []).map(plan),
    warnings: run.warnings.map((w) => w.format()),
  };
}

function describeRetry(r: NonNullable<Step['retry']>): string {
  const parts = [`${r.attempts} attempts`];
  if (r.delay) parts.push(`delay ${r.delay}`);
  if (r.factor) parts.push(`x${r.factor}`);
  if (r.maxDelay) parts.push(`max ${r.maxDelay}`);
  return parts.join(', ');
}

/** Renders what is known before the run; secrets become ***, step outputs stay symbolic. */
export const renderForPlan = (value: unknown, ctx: Context) =>
  mapStrings(value, (t) => renderStringForPlan(t, ctx));

function renderStringForPlan(text: string, ctx: Context): unknown {
  const sites = sitesOf(text, undefined);
  if (sites.length === 0) return text;
  const pieces: unknown[] = [];
  let last = 0;
  for (const site of sites) {
    const ast = parseSite(site);
    const roots = references(ast).map((r) => r[0]);
    let v: unknown;
    if (roots.includes('secrets')) v = REDACTED;
    else if (roots.some((r) => r === 'steps' || r === 'run')) v = `⟨${site.source.trim()}⟩`;
    else v = evaluate(ast, ctx);
    pieces.push(text.slice(last, site.start), v);
    last = site.end;
  }
  pieces.push(text.slice(last));
  const meaningful = pieces.filter((p) => p !== '');
  if (meaningful.length === 1) return meaningful[0];
  return meaningful.map((p) => (typeof p === 'object' ? JSON.stringify(p) : String(p))).join('');
}

export function formatPlan(plan: Plan): string {
  const lines: string[] = [];
  const rto = plan.rto ? parseDuration(plan.rto) : undefined;
  lines.push(`Plan: ${plan.runbook} on environment ${plan.environment.name} (${plan.environment.label})`);
  if (plan.rto)
    lines.push(`Objectives: RTO ${plan.rto}${plan.rpo !== undefined ? `, RPO ${plan.rpo} rows` : ''}`);
  const inputs = Object.entries(plan.inputs);
  if (inputs.length) lines.push(`Inputs: ${inputs.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}`);
  lines.push('', 'Steps:');
  plan.steps.forEach((s, i) => lines.push(...formatStep(s, i + 1)));
  if (plan.rollback.length) {
    lines.push('', 'Rollback (runs if a step fails):');
    plan.rollback.forEach((s, i) => lines.push(...formatStep(s, i + 1)));
  }
  lines.push('');
  const total = formatDuration(plan.budgetTotalMs);
  if (rto) {
    const pct = Math.round((plan.budgetTotalMs / rto) * 100);
    lines.push(
      `Budget total: ${total} of RTO ${plan.rto} (${pct}%)${plan.budgetTotalMs > rto ? '  OVER THE RTO' : ''}`,
    );
  } else lines.push(`Budget total: ${total} (no RTO objective)`);
  for (const w of plan.warnings) lines.push(`warning: ${w}`);
  lines.push('Nothing was executed: plan connects to nothing and changes nothing.');
  return lines.join('\n');
}

function formatStep(s: PlannedStep, n: number): string[] {
  const facts = [
    `budget ${s.budget ?? '-'}`,
    `timeout ${s.timeout ?? '-'}`,
    `retry ${s.retry ?? 'none'}`,
    ...(s.continueOnError ? ['continue on error'] : []),
    ...(s.when ? [`when ${s.when}`] : []),
  ];
  const head = `${String(n).padStart(2)}. ${s.id} [${s.kind}]${s.name ? ` — ${s.name}` : ''}`;
  const body = Object.entries((s.with ?? {}) as Record<string, unknown>).map(
    ([k, v]) => `      ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`,
  );
  return [head, `      ${facts.join(' · ')}`, ...body];
}
