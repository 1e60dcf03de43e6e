// The document kinds and their schemas, in one table (emission, validation, dispatch).
import type { TSchema } from '@sinclair/typebox';
import { Drill } from '../schema/drill.js';
import { Inventory } from '../schema/inventory.js';
import { Triggers } from '../schema/triggers.js';
import { Runbook } from './schema.js';

export const documentKinds = { Runbook, Inventory, Drill, Triggers } as const satisfies Record<
  string,
  TSchema
>;
export type DocumentKind = keyof typeof documentKinds;

export const schemaFileName = (kind: DocumentKind) => `${kind.toLowerCase()}.schema.json`;

/** The JSON text committed under schemas/ (a test fails when it drifts). */
export const schemaJson = (kind: DocumentKind) => JSON.stringify(documentKinds[kind], null, 2) + '\n';
