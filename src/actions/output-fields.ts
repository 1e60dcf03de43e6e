// What `steps.<id>.outputs.<field>...` may read, from the producing action's output schema: the
// `expressions` rule refuses a field the action never returns at load time, not at run time.
import type { TSchema } from '@sinclair/typebox';
import { didYouMean, listOf } from '../system/suggest.js';
import { actions } from './registry.js';

/** The alternatives a schema stands for: its anyOf branches, or itself. */
const branchesOf = (schema: TSchema): TSchema[] =>
  (schema.anyOf as TSchema[] | undefined)?.flatMap(branchesOf) ?? [schema];

/** An object whose keys are all known (a Record or an open object can hold anything). */
const closedObject = (s: TSchema) =>
  s.type === 'object' && s.additionalProperties === false && s.patternProperties === undefined;

/** The output fields a kind can return (every branch's), for listings. */
export function outputFieldNames(kind: string): string[] {
  const action = actions.get(kind);
  if (!action) return [];
  return [...new Set(branchesOf(action.outputs).flatMap((b) => Object.keys(b.properties ?? {})))];
}

const joinPath = (path: string[]) => path.map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s}`)).join('');

/**
 * Why `<base>.outputs.<path>` (base: `steps.<id>`) can never hold a value for a step of this kind,
 * or undefined when it may (or when the schema does not say: a Record, an unknown kind).
 */
export function outputPathProblem(kind: string, base: string, path: string[]): string | undefined {
  const action = actions.get(kind);
  if (!action) return undefined;
  let schemas = [action.outputs];
  for (const [i, segment] of path.entries()) {
    const branches = schemas.flatMap(branchesOf);
    if (branches.every((b) => b.type === 'array') && /^\d+$/.test(segment)) {
      schemas = branches.map((b) => b.items as TSchema);
      continue;
    }
    if (!branches.every(closedObject)) return undefined;
    const names = [...new Set(branches.flatMap((b) => Object.keys(b.properties as object)))];
    if (!names.includes(segment)) {
      const where = `${base}.outputs${joinPath(path.slice(0, i))}`;
      return `${where}.${segment} does not exist${didYouMean(segment, names)}: a ${kind} step's ${where.slice(base.length + 1)} has ${listOf(names)}`;
    }
    schemas = branches.flatMap((b) => (b.properties as Record<string, TSchema>)[segment] ?? []);
  }
  return undefined;
}
