import { outputPathProblem } from '../../actions/output-fields.js';
import { Environment } from '../../schema/inventory.js';
import {
  CONTEXT_ROOTS,
  ExpressionError,
  findExpressions,
  parseSite,
  references,
  type ExpressionSite,
} from '../expressions.js';
import type { PathSegment } from '../source.js';
import { didYouMean } from '../../system/suggest.js';
import { error, stepsOf, type Finding, type Rule } from './types.js';

/** Fields holding a bare condition: `x == 1` means the same as `${{ x == 1 }}`. */
export const BARE_EXPRESSION_FIELDS = new Set(['when', 'until']);

export const RUN_FIELDS = [
  'id',
  'failedStep',
  'error',
  'operator',
  'startedAt',
  'runbook',
  'dryRun',
  'environment',
];
export const STEP_RESULT_FIELDS = ['outputs', 'status', 'durationMs'];
const ENV_FIELDS = ['name', ...Object.keys(Environment.properties)];

/** The expression sites of a string; a bare condition field is one whole expression. */
export function sitesOf(text: string, key: PathSegment | undefined): ExpressionSite[] {
  if (BARE_EXPRESSION_FIELDS.has(String(key)) && !text.includes('${{')) {
    return [{ source: text, start: -3, end: text.length }];
  }
  return findExpressions(text);
}

/** Every string in a value with its path. */
export function* stringsIn(value: unknown, path: PathSegment[]): Generator<[string, PathSegment[]]> {
  if (typeof value === 'string') yield [value, path];
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* stringsIn(v, [...path, i]);
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) yield* stringsIn(v, [...path, k]);
}

export const expressions: Rule = {
  name: 'expressions',
  check(ctx) {
    if (ctx.doc.kind !== 'Runbook') return [];
    const inputs = Object.keys(ctx.doc.data.inputs ?? {});
    const all = stepsOf(ctx);
    const allIds = all.map((s) => s.step.id);
    const kinds = new Map(all.map((s) => [s.step.id, s.step.kind]));
    // Each id's first position in its list: "ran before" is a lookup, not a list per step (quadratic).
    const firstAt = { main: new Map<string, number>(), rollback: new Map<string, number>() };
    for (const s of all) {
      const list = s.rollback ? firstAt.rollback : firstAt.main;
      if (!list.has(s.step.id)) list.set(s.step.id, s.index);
    }
    const known = (id: string) => firstAt.main.has(id) || firstAt.rollback.has(id);
    const findings: Finding[] = [];

    for (const { step, path, rollback, index } of all) {
      // A step may read steps that ran before it: earlier main steps; rollback also reads earlier rollback steps.
      const ranBefore = (id: string) =>
        rollback
          ? firstAt.main.has(id) || (firstAt.rollback.get(id) ?? Infinity) < index
          : (firstAt.main.get(id) ?? Infinity) < index;
      const { id: _id, kind: _kind, ...fields } = step;
      for (const [text, where] of stringsIn(fields, path)) {
        let sites: ExpressionSite[];
        try {
          sites = sitesOf(text, where.at(-1));
        } catch (e) {
          findings.push(error(where, (e as ExpressionError).message, (e as ExpressionError).index));
          continue;
        }
        for (const site of sites) {
          const at = (msg: string) =>
            error(where, msg, Math.max(0, site.start + 3 + leadingSpace(site.source)));
          try {
            for (const ref of references(parseSite(site))) {
              const problem = checkReference(ref, {
                inputs,
                ranBefore,
                known,
                allIds,
                kinds,
                stepId: step.id,
              });
              if (problem) findings.push(at(problem));
            }
          } catch (e) {
            if (!(e instanceof ExpressionError)) throw e;
            findings.push(error(where, e.message, Math.max(0, e.index)));
          }
        }
      }
    }
    return findings;
  },
};

const leadingSpace = (s: string) => s.length - s.trimStart().length;

interface Scope {
  inputs: string[];
  ranBefore(id: string): boolean;
  allIds: string[];
  /** The action kind of each step id: its output schema says what `steps.<id>.outputs` holds. */
  kinds: Map<string, string>;
  known(id: string): boolean;
  stepId: string;
}

function checkReference([root, name, field, ...rest]: readonly string[], scope: Scope): string | undefined {
  if (!root) return undefined;
  if (!(CONTEXT_ROOTS as readonly string[]).includes(root)) {
    return `unknown name "${root}" in expression; expressions read ${CONTEXT_ROOTS.join(', ')}${didYouMean(root, CONTEXT_ROOTS)}`;
  }
  if (name === undefined) return undefined;
  switch (root) {
    case 'inputs':
      return scope.inputs.includes(name)
        ? undefined
        : `unknown input "${name}"${didYouMean(name, scope.inputs)}; declared inputs: ${scope.inputs.join(', ') || 'none'}`;
    case 'run':
      return RUN_FIELDS.includes(name)
        ? undefined
        : `unknown run field "${name}"${didYouMean(name, RUN_FIELDS)}`;
    case 'env':
      return ENV_FIELDS.includes(name)
        ? undefined
        : `unknown environment field "${name}"${didYouMean(name, ENV_FIELDS)}`;
    case 'steps':
      if (name === scope.stepId) return `step "${name}" cannot read its own outputs`;
      if (!scope.known(name)) return `unknown step "${name}"${didYouMean(name, scope.allIds)}`;
      if (!scope.ranBefore(name))
        return `step "${name}" has not run yet when this step runs: only earlier steps' outputs can be read`;
      if (field !== undefined && !STEP_RESULT_FIELDS.includes(field)) {
        return `steps.${name}.${field} does not exist; a step has ${STEP_RESULT_FIELDS.join(', ')}${didYouMean(field, STEP_RESULT_FIELDS)}`;
      }
      if (field === 'outputs') return outputPathProblem(scope.kinds.get(name) ?? '', `steps.${name}`, rest);
  }
  return undefined;
}
