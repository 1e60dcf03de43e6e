// The failover phases of a drill (detect, decide, promote, route, validate) from the runbook's
// steps as they ran, each against the sum of its steps' budgets; approval waits counted apart.
import { parseDuration } from '../duration.js';
import type { DrillPhase, RunEvent } from '../engine/events.js';
import type { Runbook } from '../runbook/schema.js';

export function drillPhases(runbook: Pick<Runbook, 'steps'>, events: readonly RunEvent[]): DrillPhase[] {
  const phaseOf = new Map(runbook.steps.map((s) => [s.id, s.phase ?? 'other']));
  const budgetOf = new Map(runbook.steps.map((s) => [s.id, s.budget ? parseDuration(s.budget) : undefined]));
  const phases = new Map<string, DrillPhase>();
  for (const e of events) {
    if (e.type !== 'step-finished' || e.phase !== 'main') continue;
    const name = phaseOf.get(e.stepId) ?? 'other';
    const p = phases.get(name) ?? { phase: name, steps: [], durationMs: 0, waitMs: 0 };
    p.steps.push(e.stepId);
    p.durationMs += e.durationMs;
    p.waitMs += e.waitMs;
    const budget = budgetOf.get(e.stepId);
    if (budget !== undefined) p.budgetMs = (p.budgetMs ?? 0) + budget;
    phases.set(name, p);
  }
  return [...phases.values()].map((p) => ({
    ...p,
    met: p.budgetMs === undefined ? undefined : p.durationMs - p.waitMs <= p.budgetMs,
  }));
}
