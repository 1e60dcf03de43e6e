// Output contracts, checked where they cost nothing in production: under node:test (node sets
// NODE_TEST_CONTEXT in every test process, and what a test spawns inherits it) or with
// DRILLBOOK_CHECK_OUTPUTS=1. A result that does not match the action's output schema is a bug in
// drillbook, so it fails the step as an InternalError rather than reach later expressions.
import { Type, type TSchema } from '@sinclair/typebox';
import type { ValidateFunction } from 'ajv';
import { InternalError } from '../errors.js';
import { createAjv } from '../schema/ajv.js';
import type { ActionDefinition } from './types.js';

export const checkingOutputs = (): boolean =>
  process.env.NODE_TEST_CONTEXT !== undefined || process.env.DRILLBOOK_CHECK_OUTPUTS === '1';

const compiled = new WeakMap<TSchema, ValidateFunction>();

/** Throws when outputs do not match the kind's output schema, naming the first mismatch. */
export function checkOutputs(kind: string, schema: TSchema, outputs: unknown): void {
  let validate = compiled.get(schema);
  // Ajv, not TypeBox's Value: the enums (OneOf) are Type.Unsafe, which only JSON Schema knows.
  if (!validate) compiled.set(schema, (validate = createAjv({ allErrors: false }).compile(schema)));
  if (validate(outputs)) return;
  const first = validate.errors![0]!;
  const where = first.instancePath || '(the outputs)';
  const extra = first.params.additionalProperty ? ` "${String(first.params.additionalProperty)}"` : '';
  throw new InternalError(
    `action ${kind} broke its output contract at ${where}: ${first.message}${extra} (got ${JSON.stringify(first.data)})`,
  );
}

/** The same definition with run and alreadyDone checking what they return. */
export function withOutputCheck<S extends TSchema, O extends TSchema>(
  def: ActionDefinition<S, O>,
): ActionDefinition<S, O> {
  const { run, alreadyDone } = def;
  const checked = <R>(result: R): R => {
    if (result !== undefined) checkOutputs(def.kind, def.outputs, result);
    return result;
  };
  return {
    ...def,
    ...(run && { run: async (ctx, input) => checked(await run.call(def, ctx, input)) }),
    ...(alreadyDone && {
      alreadyDone: async (ctx, input) => checked(await alreadyDone.call(def, ctx, input)),
    }),
  };
}

/** A duration in milliseconds, as outputs report them. */
export const Ms = (description?: string) => Type.Number({ minimum: 0, ...(description && { description }) });

/** A value or null (SQL NULL, a position not known). */
export const OrNull = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
