// `run --dry-run`: the plan plus what each action says it would do. Connects to nothing, writes
// nothing, takes no lock.
import { actions } from '../actions/registry.js';
import type { ActionContext } from '../actions/types.js';
import { childEnv } from '../system/child-env.js';
import { StepFailure } from '../errors.js';
import { buildPlan, formatPlan, type Plan } from '../runbook/plan.js';
import type { PreparedRun } from '../runbook/prepare.js';
import { REDACTED, Redactor } from '../connectors/redact.js';

export interface DryRun {
  plan: Plan;
  actions: { id: string; kind: string; text: string }[];
}

export async function dryRun(prepared: PreparedRun, stateDir: string): Promise<DryRun> {
  const plan = buildPlan(prepared);
  const signal = new AbortController().signal;
  const out: DryRun['actions'] = [];
  for (const step of [...plan.steps, ...plan.rollback]) {
    const action = actions.get(step.kind);
    const ctx: ActionContext = {
      signal,
      env: prepared.env,
      runId: 'dry-run',
      stepId: step.id,
      stateDir,
      secret: async () => REDACTED,
      // Secrets are never resolved in a dry run: nothing to redact, and no child is started.
      redactor: new Redactor(),
      childEnv: () => childEnv(),
      log: () => undefined,
      evaluate: () => undefined,
      requestApproval: () =>
        Promise.reject(new StepFailure('no approvals in a dry run', { stepId: step.id })),
    };
    // The plan's rendering: values known only at run time appear as ⟨expression⟩.
    const text = action?.dryRun
      ? await action.dryRun(ctx, step.with as never)
      : `would run ${step.kind}${action?.run ? '' : ' (not executable in this version)'}`;
    out.push({ id: step.id, kind: step.kind, text });
  }
  return { plan, actions: out };
}

export function formatDryRun(d: DryRun): string {
  const width = Math.max(...d.actions.map((a) => a.id.length));
  return [
    formatPlan(d.plan),
    '',
    'Dry run (what each step would do):',
    ...d.actions.map((a) => `  ${a.id.padEnd(width)}  ${a.text}`),
  ].join('\n');
}
