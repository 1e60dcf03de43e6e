// Whole-document checking: schema, then the semantic rules, every finding located.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { byPosition, UserError } from '../errors.js';
import type { DocumentKind } from './documents.js';
import type { Inventory } from '../schema/inventory.js';
import { loadDocument, type LoadedDocument } from './load.js';
import { rules } from './rules/index.js';
import type { Finding } from './rules/types.js';
import { didYouMean } from '../system/suggest.js';

export interface CheckOptions {
  expected?: DocumentKind;
  inventory?: { data: Inventory; file: string };
  envName?: string;
}

export interface CheckResult {
  file: string;
  doc?: LoadedDocument;
  errors: UserError[];
  warnings: UserError[];
}

export function loadInventory(file: string): { data: Inventory; file: string } {
  const doc = loadDocument(file, 'Inventory');
  const result = applyRules(doc, {});
  if (result.errors.length) throw result.errors[0]!;
  return { data: doc.data as Inventory, file };
}

/** Checks one file; user errors are collected, never thrown. */
export function checkFile(file: string, options: CheckOptions = {}): CheckResult {
  let doc: LoadedDocument;
  try {
    doc = loadDocument(file, options.expected);
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    const errors = 'errors' in err ? (err as { errors: UserError[] }).errors : [err];
    return { file, errors, warnings: [] };
  }
  return {
    file,
    doc,
    ...applyRules(doc, { ...options, inventory: options.inventory ?? drillInventory(doc) }),
  };
}

/** A drill may name its own inventory (relative to the drill file). */
function drillInventory(doc: LoadedDocument) {
  if (doc.kind !== 'Drill' || !doc.data.inventory) return undefined;
  const file = resolve(dirname(doc.source.file), doc.data.inventory);
  return existsSync(file) ? loadInventory(file) : undefined;
}

export function applyRules(doc: LoadedDocument, options: CheckOptions) {
  const findings: Finding[] = rules.flatMap((r) =>
    r.check({ doc, inventory: options.inventory, envName: options.envName }),
  );
  const toError = (f: Finding) =>
    new UserError(
      f.message,
      f.index === undefined ? doc.source.locate(f.path) : doc.source.locateIn(f.path, f.index),
    );
  const sorted = (fs: Finding[]) => fs.map(toError).sort(byPosition);
  return {
    errors: sorted(findings.filter((f) => f.severity === 'error')),
    warnings: sorted(findings.filter((f) => f.severity === 'warning')),
  };
}

/** The --env flag names an environment of the inventory. */
export function checkEnvironmentName(inventory: { data: Inventory; file: string }, name: string): void {
  const names = Object.keys(inventory.data.environments);
  if (!names.includes(name)) {
    throw new UserError(
      `environment "${name}" is not in ${inventory.file}${didYouMean(name, names)}; environments: ${names.join(', ')}`,
    );
  }
}
