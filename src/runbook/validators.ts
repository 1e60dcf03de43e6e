// Compiled validators: one per document kind, one per action kind's `with:` block, and the run
// events (checked when a journal is read). `npm run
// build` writes them as standalone code (dist/validators/*.cjs) because compiling the schemas at
// start-up costs ~0.5 s and `validate` must answer fast; without them (tests under tsx) Ajv compiles
// each once, on first use.
import { createRequire } from 'node:module';
import type { Ajv as AjvType, ValidateFunction } from 'ajv';
import type { TSchema } from '@sinclair/typebox';
import { actions } from '../actions/registry.js';
import { Drill } from '../schema/drill.js';
import { RunEvent } from '../schema/events.js';
import { Inventory } from '../schema/inventory.js';
import { Triggers } from '../schema/triggers.js';
import { RunbookEnvelope } from './schema.js';
import { createAjv } from '../schema/ajv.js';

export { createAjv };

/**
 * The events as a tagged union: each event is checked against its own type's branch only. The
 * schema's plain anyOf, with allErrors, tries every branch: ~5 KB of error objects per journal line.
 */
const TaggedRunEvent = {
  type: 'object',
  required: ['type'],
  discriminator: { propertyName: 'type' },
  oneOf: RunEvent.anyOf,
} as unknown as TSchema;

const require = createRequire(import.meta.url);
const cache = new Map<string, ValidateFunction>();
let ajv: AjvType | undefined;

export type ValidatorName = 'Runbook' | 'Inventory' | 'Drill' | 'Triggers' | 'Events' | `with-${string}`;

export const validatorNames = (): ValidatorName[] => [
  'Runbook',
  'Inventory',
  'Drill',
  'Triggers',
  'Events',
  ...[...actions.keys()].map((k) => `with-${k}` as const),
];

export function schemaOf(name: ValidatorName): TSchema {
  if (name === 'Runbook') return RunbookEnvelope;
  if (name === 'Inventory') return Inventory;
  if (name === 'Drill') return Drill;
  if (name === 'Triggers') return Triggers;
  if (name === 'Events') return TaggedRunEvent;
  return actions.get(name.slice('with-'.length))!.schema;
}

/** dist/validators/, reached from both dist/runbook/ (tsc) and dist/bundle/ (the CLI bundle). */
export const validatorFile = (name: ValidatorName) => `../validators/${name.toLowerCase()}.cjs`;

export function validatorFor(name: ValidatorName): ValidateFunction {
  let v = cache.get(name);
  if (!v) {
    v = prebuilt(name) ?? (ajv ??= createAjv()).compile(schemaOf(name));
    cache.set(name, v);
  }
  return v;
}

function prebuilt(name: ValidatorName): ValidateFunction | undefined {
  try {
    return require(validatorFile(name)) as ValidateFunction;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return undefined;
    throw err;
  }
}
