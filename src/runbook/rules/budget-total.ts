import { formatDuration, parseDuration } from '../../duration.js';
import { warning, type Rule } from './types.js';

/** Step budgets that add up past the RTO mean the plan cannot meet its own objective. */
export const budgetTotal: Rule = {
  name: 'budget-total',
  check(ctx) {
    if (ctx.doc.kind !== 'Runbook' || !ctx.doc.data.objectives) return [];
    const rto = parseDuration(ctx.doc.data.objectives.rto) ?? 0;
    const total = stepBudgetTotal(ctx.doc.data.steps);
    return total > rto
      ? [
          warning(
            ['objectives', 'rto'],
            `step budgets add up to ${formatDuration(total)}, above objectives.rto ${formatDuration(rto)}`,
          ),
        ]
      : [];
  },
};

export const stepBudgetTotal = (steps: readonly { budget?: string }[]) =>
  steps.reduce((sum, s) => sum + (s.budget ? (parseDuration(s.budget) ?? 0) : 0), 0);
