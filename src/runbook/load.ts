// Loads a drillbook document (Runbook, Inventory, Drill): parse with positions, check the
// envelope, validate against the schema, and report every problem as file:line:col.
import type { ErrorObject } from 'ajv';
import { actions } from '../actions/registry.js';
import { UserError, UserErrors } from '../errors.js';
import { API_VERSION } from '../schema/common.js';
import { documentKinds, type DocumentKind } from './documents.js';
import type { Drill } from '../schema/drill.js';
import type { Inventory } from '../schema/inventory.js';
import type { Triggers } from '../schema/triggers.js';
import type { Runbook } from './schema.js';
import { validatorFor } from './validators.js';
import { locatedErrors } from './schema-errors.js';
import { readSource, type YamlSource } from './source.js';
import { didYouMean } from '../system/suggest.js';

export type LoadedDocument =
  | { kind: 'Runbook'; data: Runbook; source: YamlSource }
  | { kind: 'Inventory'; data: Inventory; source: YamlSource }
  | { kind: 'Drill'; data: Drill; source: YamlSource }
  | { kind: 'Triggers'; data: Triggers; source: YamlSource };

const kinds = Object.keys(documentKinds) as DocumentKind[];

export function loadDocument(file: string, expected?: DocumentKind): LoadedDocument {
  return checkSchema(readSource(file), expected);
}

export function checkSchema(source: YamlSource, expected?: DocumentKind): LoadedDocument {
  const { data } = source;
  const what = expected ? `a ${expected}` : 'a drillbook document';
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    const found = Array.isArray(data) ? 'a list' : `a ${data === null ? 'null value' : typeof data}`;
    throw new UserError(`${what} must be a map of keys (found ${found})`, source.locate([]));
  }
  const doc = data as Record<string, unknown>;
  if (doc.apiVersion === undefined)
    throw new UserError(`missing required key "apiVersion" (${API_VERSION})`, source.locate([]));
  if (doc.apiVersion !== API_VERSION) {
    throw new UserError(
      `unsupported apiVersion ${JSON.stringify(doc.apiVersion)}; this drillbook reads "${API_VERSION}"`,
      source.locate(['apiVersion']),
    );
  }
  const kind = doc.kind;
  if (kind === undefined)
    throw new UserError(`missing required key "kind" (one of ${kinds.join(', ')})`, source.locate([]));
  if (!kinds.includes(kind as DocumentKind)) {
    throw new UserError(
      `unknown document kind ${JSON.stringify(kind)}; allowed: ${kinds.join(', ')}${didYouMean(String(kind), kinds)}`,
      source.locate(['kind']),
    );
  }
  if (expected && kind !== expected) {
    throw new UserError(`expected ${what}, found kind ${kind}`, source.locate(['kind']));
  }
  const validate = validatorFor(kind as DocumentKind);
  const errors = validate(data) ? [] : [...(validate.errors ?? [])];
  if (kind === 'Runbook') errors.push(...withErrors(doc));
  if (errors.length) {
    const located = locatedErrors(source, errors);
    throw located.length === 1 ? located[0]! : new UserErrors(located);
  }
  return { kind, data, source } as LoadedDocument;
}

/** Each step's `with:` against its own kind's schema (see StepEnvelope). */
function withErrors(doc: Record<string, unknown>): ErrorObject[] {
  const errors: ErrorObject[] = [];
  for (const list of ['steps', 'rollback'] as const) {
    const steps = doc[list];
    if (!Array.isArray(steps)) continue;
    steps.forEach((step: unknown, i) => {
      const { kind, with: input } = (step ?? {}) as { kind?: unknown; with?: unknown };
      if (typeof kind !== 'string' || !actions.has(kind) || !input || typeof input !== 'object') return;
      const validate = validatorFor(`with-${kind}`);
      if (validate(input)) return;
      for (const e of validate.errors ?? []) {
        errors.push({
          ...e,
          instancePath: `/${list}/${i}/with${e.instancePath}`,
          schemaPath: `with-${kind}${e.schemaPath}`,
        });
      }
    });
  }
  return errors;
}
