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

const joinPath = (path: readonly string[]) =>
  path.map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s}`)).join('');

/** Where a path leaves its kind's outputs: the segment's index and the names it could have been. */
type Missing = { at: number; names: string[] };

/** Per kind, each path's verdict (undefined: it may hold a value): runbooks read the same paths often. */
const verdicts = new Map<string, Map<string, Missing | undefined>>();

/**
 * Why `<base>.outputs.<path>` (base: `steps.<id>`) can never hold a value for a step of this kind,
 * or undefined when it may (or when the schema does not say: a Record, an unknown kind).
 */
export function outputPathProblem(kind: string, base: string, path: readonly string[]): string | undefined {
  const action = actions.get(kind);
  if (!action) return undefined;
  let byPath = verdicts.get(kind);
  if (!byPath) verdicts.set(kind, (byPath = new Map()));
  const key = JSON.stringify(path);
  let missing = byPath.get(key);
  if (missing === undefined && !byPath.has(key))
    byPath.set(key, (missing = missingSegment(action.outputs, path)));
  if (!missing) return undefined;
  const { at, names } = missing;
  const segment = path[at]!;
  const where = `${base}.outputs${joinPath(path.slice(0, at))}`;
  return `${where}.${segment} does not exist${didYouMean(segment, names)}: a ${kind} step's ${where.slice(base.length + 1)} has ${listOf(names)}`;
}

function missingSegment(outputs: TSchema, path: readonly string[]): Missing | undefined {
  let schemas = [outputs];
  for (const [i, segment] of path.entries()) {
    const branches = schemas.flatMap(branchesOf);
    if (branches.every((b) => b.type === 'array') && /^\d+$/.test(segment)) {
      schemas = branches.map((b) => b.items as TSchema);
      continue;
    }
    if (!branches.every(closedObject)) return undefined;
    const names = [...new Set(branches.flatMap((b) => Object.keys(b.properties as object)))];
    if (!names.includes(segment)) return { at: i, names };
    schemas = branches.flatMap((b) => (b.properties as Record<string, TSchema>)[segment] ?? []);
  }
  return undefined;
}
