// A step's `with:` rendered against the run context and checked against its kind's schema: the
// schema allows expression strings at load time, the rendered value must be the real thing.
import type { ValidateFunction } from 'ajv';
import type { ActionDefinition } from '../actions/types.js';
import { actions as registry } from '../actions/registry.js';
import { UserError, errorMessage } from '../errors.js';
import { render } from '../runbook/expressions.js';
import { BARE_EXPRESSION_FIELDS } from '../runbook/rules/expressions.js';
import { explainErrors } from '../runbook/schema-errors.js';
import { createAjv, validatorFor } from '../runbook/validators.js';
import type { Step } from '../runbook/schema.js';
import type { RunContext } from './context.js';

const custom = new WeakMap<ActionDefinition, ValidateFunction>();

/** Kinds from the registry use the shared (prebuilt) validators; others (tests) compile their own. */
function validatorOf(action: ActionDefinition): ValidateFunction {
  if (registry.get(action.kind) === action) return validatorFor(`with-${action.kind}`);
  let v = custom.get(action);
  if (!v) custom.set(action, (v = createAjv().compile(action.schema)));
  return v;
}

export function renderInput(step: Step, action: ActionDefinition, ctx: RunContext): Record<string, unknown> {
  const raw = step.with as Record<string, unknown>;
  for (const field of action.literalFields ?? []) {
    if (String(raw[field] ?? '').includes('${{'))
      throw new UserError(
        `step ${step.id}: with.${field} may not contain \${{ }} expressions; pass values as bound parameters`,
      );
  }
  const verbatim = new Set([...BARE_EXPRESSION_FIELDS, ...(action.literalFields ?? [])]);
  let input: Record<string, unknown>;
  try {
    // Bare condition fields (`until`) stay text: the action re-evaluates them against the live context.
    input = Object.fromEntries(
      Object.entries(raw).map(([k, v]) => [k, verbatim.has(k) ? v : render(v, ctx)]),
    );
  } catch (err) {
    throw new UserError(`step ${step.id}: cannot render with: ${errorMessage(err)}`);
  }
  const validate = validatorOf(action);
  if (!validate(input)) {
    const problems = explainErrors(validate.errors ?? [], input).map(
      (e) => `with${e.path.map((p) => `.${p}`).join('')}: ${e.message}`,
    );
    throw new UserError(`step ${step.id}: invalid input after rendering: ${problems.join('; ')}`);
  }
  return input;
}
