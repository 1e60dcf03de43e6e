// Runbook inputs: declared defaults overridden by --set key=value, typed and checked.
import { UserError } from '../errors.js';
import type { InputSpec } from './schema.js';
import { didYouMean } from '../system/suggest.js';

export type InputValues = Record<string, string | number | boolean>;

/** Parses `--set key=value` flags. */
export function parseSets(sets: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    sets.map((s) => {
      const eq = s.indexOf('=');
      if (eq <= 0) throw new UserError(`--set ${s}: expected key=value`);
      return [s.slice(0, eq), s.slice(eq + 1)];
    }),
  );
}

export function resolveInputs(
  specs: Record<string, InputSpec> = {},
  given: Record<string, unknown> = {},
): InputValues {
  const names = Object.keys(specs);
  for (const key of Object.keys(given)) {
    // Own properties only: `constructor` or `__proto__` are not declared inputs of every runbook.
    if (!Object.hasOwn(specs, key))
      throw new UserError(
        `unknown input "${key}"${didYouMean(key, names)}; inputs: ${names.join(', ') || 'none'}`,
      );
  }
  const out: InputValues = {};
  for (const [name, spec] of Object.entries(specs)) {
    const raw = (Object.hasOwn(given, name) ? given[name] : undefined) ?? spec.default;
    if (raw === undefined) {
      if (spec.required) throw new UserError(`input "${name}" is required: pass --set ${name}=...`);
      continue;
    }
    out[name] = coerce(name, spec.type, raw);
  }
  return out;
}

function coerce(name: string, type: InputSpec['type'], raw: unknown): string | number | boolean {
  if (type === 'string') return String(raw);
  if (type === 'number') {
    const n = typeof raw === 'number' ? raw : Number(raw);
    if (raw === '' || Number.isNaN(n))
      throw new UserError(`input "${name}" must be a number (got ${JSON.stringify(raw)})`);
    return n;
  }
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw new UserError(`input "${name}" must be true or false (got ${JSON.stringify(raw)})`);
}
