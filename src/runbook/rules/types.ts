// A semantic rule: one small check beyond what the schema can say.
import type { LoadedDocument } from '../load.js';
import type { PathSegment } from '../source.js';
import type { Environment, Inventory } from '../../schema/inventory.js';

export interface Finding {
  severity: 'error' | 'warning';
  path: PathSegment[];
  /** Character index inside the string at `path` (expressions). */
  index?: number;
  message: string;
}

export interface RuleContext {
  doc: LoadedDocument;
  /** Present with --inventory (or a drill's own inventory). */
  inventory?: { data: Inventory; file: string };
  /** The environment chosen with --env, when given. */
  envName?: string;
}

export interface Rule {
  name: string;
  check(ctx: RuleContext): Finding[];
}

export const error = (path: PathSegment[], message: string, index?: number): Finding => ({
  severity: 'error',
  path,
  message,
  index,
});
export const warning = (path: PathSegment[], message: string): Finding => ({
  severity: 'warning',
  path,
  message,
});

/** Steps and rollback steps with their paths, for rules over runbooks. */
export function stepsOf(ctx: RuleContext) {
  if (ctx.doc.kind !== 'Runbook') return [];
  const { steps, rollback = [] } = ctx.doc.data;
  return [
    ...steps.map((step, i) => ({ step, path: ['steps', i] as PathSegment[], rollback: false, index: i })),
    ...rollback.map((step, i) => ({
      step,
      path: ['rollback', i] as PathSegment[],
      rollback: true,
      index: i,
    })),
  ];
}

export function chosenEnvironment(ctx: RuleContext): Environment | undefined {
  return ctx.envName ? ctx.inventory?.data.environments[ctx.envName] : undefined;
}
