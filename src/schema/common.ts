// Building blocks shared by the runbook, inventory and drill schemas.
import {
  Type,
  type ObjectOptions,
  type SchemaOptions,
  type TProperties,
  type TSchema,
} from '@sinclair/typebox';
import { DURATION_PATTERN } from '../duration.js';

export const API_VERSION = 'drillbook/v1';

/** A closed object: unknown keys are errors, never warnings. */
export const Strict = <T extends TProperties>(props: T, options: ObjectOptions = {}) =>
  Type.Object(props, { additionalProperties: false, ...options });

/** Schema annotation: how a pattern-checked value should look, for error messages. */
export const HINT = 'x-hint';

export const Duration = (description?: string) =>
  Type.String({
    pattern: DURATION_PATTERN,
    description: description ?? 'a duration: 250ms, 30s, 5m, 1h',
    [HINT]: 'a duration such as 250ms, 30s, 5m or 1h',
  });

/** A string that may hold `${{ ... }}` expressions, rendered at run time. */
export const Text = (description?: string) => Type.String({ description });

/** SQL text: `${{ }}` expressions in it become bound parameters `$n` (values never become SQL). */
export const SqlText = (description: string) =>
  Type.String({
    description: `${description}; each \${{ }} expression becomes a bound parameter $n, never SQL text`,
  });

/** The values of `$1`, `$2` ... in the SQL text beside it (expressions there are appended). */
export const SqlParams = Type.Optional(
  Type.Array(Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]), {
    description: 'values of $1, $2 ... in the SQL text (each ${{ }} in the text adds one)',
  }),
);

/** A value that is either T or an expression string that renders to T at run time. */
export const OrExpr = <T extends TSchema>(schema: T) =>
  Type.Union([schema, Type.String({ pattern: '^\\s*\\$\\{\\{.*\\}\\}\\s*$' })]);

export const Name = Type.String({
  pattern: '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$',
  description: 'lowercase letters, digits and dashes',
  [HINT]: 'lowercase letters, digits and dashes (not starting or ending with a dash)',
});

export const StepId = Type.String({
  pattern: '^[a-z0-9][a-z0-9_-]*$',
  description: 'unique within the runbook: lowercase letters, digits, dashes, underscores',
  [HINT]: 'lowercase letters, digits, dashes and underscores',
});

/** Credentials are references, never inline: env:NAME or file:PATH. */
export const SecretRef = Type.String({
  pattern: '^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$',
  description: 'a secret reference: env:NAME or file:PATH (never the secret itself)',
  [HINT]: 'a secret reference env:NAME or file:PATH, never the secret itself',
});

export const Port = Type.Integer({ minimum: 1, maximum: 65535 });

/**
 * Marks a `with:` field as naming an inventory target, so `validate --inventory` can check that it
 * exists. `node` accepts a PostgreSQL node name or the role alias `primary`.
 */
export type TargetKind = 'node' | 'ssh' | 'router' | 'record' | 'vantage';
export const TARGET_ANNOTATION = 'x-drillbook-target';
export const Target = (target: TargetKind, description?: string) =>
  Type.String({ description, [TARGET_ANNOTATION]: target });
export const Targets = (target: TargetKind, description?: string) =>
  OrExpr(Type.Array(Target(target), { minItems: 1, description }));

/** One of a few strings, as a JSON Schema `enum` (short validators, errors that list the values). */
export const OneOf = <const T extends readonly string[]>(values: T, options: SchemaOptions = {}) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
