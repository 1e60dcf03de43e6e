// Ajv errors turned into one clear, located message each: unknown keys with allowed keys and a
// suggestion, union errors reduced to the branch the document meant (by `kind`, `check`, ...).
import type { ErrorObject } from 'ajv';
import { byPosition, UserError } from '../errors.js';
import { HINT } from '../schema/common.js';
import type { PathSegment, YamlSource } from './source.js';
import { didYouMean, listOf } from '../system/suggest.js';

type Schema = Record<string, unknown> & {
  properties?: Record<string, Schema>;
  const?: unknown;
  anyOf?: Schema[];
  pattern?: string;
  description?: string;
  type?: string;
};

const EXPRESSION_PATTERN = '^\\s*\\$\\{\\{.*\\}\\}\\s*$';

export function toPath(pointer: string): PathSegment[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

const valueAt = (data: unknown, path: PathSegment[]) =>
  path.reduce<unknown>(
    (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
    data,
  );

/** The property whose `const` tells the branches of a union apart (kind, check, type...). */
function discriminator(branches: Schema[]): string | undefined {
  const first = branches[0]?.properties;
  if (!first) return undefined;
  return Object.keys(first).find((p) => branches.every((b) => b.properties?.[p]?.const !== undefined));
}

interface Located {
  path: PathSegment[];
  key?: boolean;
  message: string;
}

/** Reduce union errors to what the author meant, then phrase each remaining error. */
export function explainErrors(errors: ErrorObject[], data: unknown): Located[] {
  let pending = [...errors].sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  const out: Located[] = [];
  for (const union of pending.filter((e) => e.keyword === 'anyOf')) {
    if (!pending.includes(union)) continue;
    const branches = union.schema as Schema[];
    const path = toPath(union.instancePath);
    const value = valueAt(data, path);
    // Items of one array share a schemaPath: an error belongs to this union only below its instance.
    const below = (e: ErrorObject) =>
      e.instancePath === union.instancePath || e.instancePath.startsWith(`${union.instancePath}/`);
    const inBranch = (e: ErrorObject, i: number) =>
      below(e) && e.schemaPath.startsWith(`${union.schemaPath}/${i}/`);
    const inUnion = (e: ErrorObject) =>
      e === union || (below(e) && e.schemaPath.startsWith(`${union.schemaPath}/`));
    const drop = (keep: (e: ErrorObject) => boolean) => {
      pending = pending.filter((e) => !inUnion(e) || keep(e));
    };

    const disc = discriminator(branches);
    if (disc && value && typeof value === 'object' && !Array.isArray(value)) {
      const allowed = branches.map((b) => b.properties?.[disc]?.const);
      const given = (value as Record<string, unknown>)[disc];
      const chosen = allowed.indexOf(given);
      if (chosen >= 0) {
        drop((e) => e !== union && inBranch(e, chosen));
      } else {
        drop(() => false);
        out.push(
          given === undefined
            ? { path, message: `missing required key "${disc}" (one of ${listOf(allowed)})` }
            : {
                path: [...path, disc],
                message: `unknown ${disc} ${JSON.stringify(given)}; allowed: ${listOf(allowed)}${didYouMean(String(given), allowed.map(String))}`,
              },
        );
      }
      continue;
    }
    if (branches.every((b) => b.const !== undefined)) {
      const allowed = branches.map((b) => b.const);
      drop(() => false);
      out.push({
        path,
        message: `must be one of ${listOf(allowed)}${didYouMean(String(value), allowed.map(String))}`,
      });
      continue;
    }
    const exprBranch = branches.findIndex((b) => b.pattern === EXPRESSION_PATTERN);
    if (exprBranch >= 0) {
      const other = branches.find((_, i) => i !== exprBranch);
      drop(() => false);
      out.push({ path, message: `must be ${describeType(other)} or a \${{ ... }} expression` });
      continue;
    }
    // No discriminator: report the branch that got furthest (fewest errors).
    const counts = branches.map((_, i) => pending.filter((e) => inBranch(e, i)).length);
    const best = counts.indexOf(Math.min(...counts));
    drop((e) => e !== union && inBranch(e, best));
  }
  for (const e of pending) out.push(phrase(e));
  return out;
}

function describeType(schema: Schema | undefined): string {
  if (!schema) return 'a value';
  if (schema.type === 'array') return 'a list';
  if (schema.type === 'object') return 'a map';
  if (schema.type === 'integer') return 'an integer';
  return `a ${schema.type ?? 'value'}`;
}

function phrase(e: ErrorObject): Located {
  const path = toPath(e.instancePath);
  const parent = e.parentSchema as Schema | undefined;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const allowed = Object.keys(parent?.properties ?? {}).filter((k) => k !== '$schema');
      return {
        path: [...path, key],
        key: true,
        message: `unknown key "${key}"${didYouMean(key, allowed)}; allowed keys: ${allowed.join(', ')}`,
      };
    }
    case 'required':
      return {
        path,
        message: `missing required key "${(e.params as { missingProperty: string }).missingProperty}"`,
      };
    case 'const':
      return {
        path,
        message: `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`,
      };
    case 'enum': {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
      const suggestion = typeof e.data === 'string' ? didYouMean(e.data, allowed.map(String)) : '';
      return {
        path,
        message: `${JSON.stringify(e.data)} is not allowed; must be one of ${listOf(allowed)}${suggestion}`,
      };
    }
    case 'type':
      return {
        path,
        message: `must be ${parent?.[HINT] ?? describeType({ type: (e.params as { type: string }).type })}`,
      };
    case 'pattern':
      return {
        path,
        message: `${JSON.stringify(e.data)} is not valid: expected ${parent?.[HINT] ?? parent?.description ?? `a match of ${e.schema}`}`,
      };
    case 'minItems':
      return { path, message: `must have at least ${(e.params as { limit: number }).limit} item(s)` };
    case 'minProperties':
      return { path, message: `must have at least ${(e.params as { limit: number }).limit} entry(ies)` };
    case 'minimum':
    case 'maximum': {
      const key = path.at(-1);
      const bound = `${e.keyword === 'minimum' ? 'at least' : 'at most'} ${(e.params as { limit: number }).limit}`;
      return { path, message: `${typeof key === 'string' ? `${key} ` : ''}must be ${bound}` };
    }
    default:
      return { path, message: e.message ?? `invalid (${e.keyword})` };
  }
}

export function locatedErrors(source: YamlSource, errors: ErrorObject[]): UserError[] {
  return explainErrors(errors, source.data)
    .map((l) => new UserError(l.message, source.locate(l.path, l.key ?? false)))
    .sort(byPosition);
}
