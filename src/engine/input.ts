// A step's `with:` rendered against the run context and checked against its kind's schema: the
// schema allows expression strings at load time, the rendered value must be the real thing.
import type { ValidateFunction } from 'ajv';
import { isSqlField, type ActionDefinition } from '../actions/types.js';
import { actions as registry } from '../actions/registry.js';
import { UserError, errorMessage } from '../errors.js';
import { renderSql, renderString } from '../runbook/expressions.js';
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
  let input: Record<string, unknown>;
  try {
    // Bare condition fields (`until`) stay text: the action re-evaluates them against the live context.
    input = Object.fromEntries(
      Object.entries(raw).map(([k, v]) => [
        k,
        BARE_EXPRESSION_FIELDS.has(k) ? v : renderExcept(v, ctx, [k], action),
      ]),
    );
    for (const field of action.sqlFields ?? []) bindSql(raw, input, field.split('.'), ctx);
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

/** Renders every string of a value except the action's SQL texts (kept as written for bindSql). */
function renderExcept(
  value: unknown,
  ctx: RunContext,
  path: (string | number)[],
  action: ActionDefinition,
): unknown {
  if (typeof value === 'string') return isSqlField(action, path) ? value : renderString(value, ctx);
  if (Array.isArray(value)) return value.map((v, i) => renderExcept(v, ctx, [...path, i], action));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, renderExcept(v, ctx, [...path, k], action)]),
    );
  }
  return value;
}

/** The SQL text at `path` (raw) becomes text with placeholders; its values join the `params` beside it. */
function bindSql(raw: unknown, rendered: unknown, path: readonly string[], ctx: RunContext): void {
  if (!raw || typeof raw !== 'object' || !rendered || typeof rendered !== 'object') return;
  const [head, ...rest] = path;
  if (head === '*') {
    if (Array.isArray(raw) && Array.isArray(rendered))
      raw.forEach((item, i) => bindSql(item, rendered[i], rest, ctx));
    return;
  }
  const from = raw as Record<string, unknown>;
  const into = rendered as Record<string, unknown>;
  if (rest.length > 0) return bindSql(from[head!], into[head!], rest, ctx);
  const text = from[head!];
  if (typeof text !== 'string') return;
  const params = Array.isArray(into.params) ? into.params : [];
  const sql = renderSql(text, ctx, params.length);
  into[head!] = sql.text;
  if (sql.values.length > 0) into.params = [...params, ...sql.values];
}
