// Everything a plan or a run needs before the first step: the runbook checked against the chosen
// environment of the inventory, and its inputs resolved. Bad input stops here, before any action.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { EnvContext } from '../actions/types.js';
import { UserError, UserErrors } from '../errors.js';
import type { Inventory } from '../schema/inventory.js';
import type { Runbook } from './schema.js';
import { applyRules, checkEnvironmentName, loadInventory } from './check.js';
import { resolveInputs, type InputValues } from './inputs.js';
import { loadDocument } from './load.js';
import type { YamlSource } from './source.js';

/** The inventory the local lab writes; the default when --inventory is not given. */
export const DEFAULT_LAB_INVENTORY = '.drillbook/lab/inventory.yaml';

export function defaultInventoryPath(given?: string): string {
  const path = given ?? process.env.DRILLBOOK_INVENTORY ?? DEFAULT_LAB_INVENTORY;
  if (!existsSync(path)) {
    throw new UserError(
      given || process.env.DRILLBOOK_INVENTORY
        ? `inventory not found: ${path}`
        : `no --inventory given and no lab inventory at ${DEFAULT_LAB_INVENTORY} (start the lab with "drillbook lab up")`,
    );
  }
  return resolve(path);
}

export interface PreparedRun {
  runbook: Runbook;
  source: YamlSource;
  inventory: { data: Inventory; file: string };
  env: EnvContext;
  inputs: InputValues;
  /** Warnings found while checking (budget total above RTO, ...). */
  warnings: UserError[];
}

/** The inventory (--inventory, else the lab's) and its environment `envName`, checked to exist. */
export function environmentOf(inventoryFile: string | undefined, envName: string) {
  const inventory = loadInventory(defaultInventoryPath(inventoryFile));
  checkEnvironmentName(inventory, envName);
  const env: EnvContext = { ...inventory.data.environments[envName]!, name: envName };
  return { inventory, env };
}

export function prepareRun(options: {
  runbookFile: string;
  inventoryFile?: string;
  envName: string;
  /** The given inputs, or a function of the runbook that gives them (a drill types its stand-ins). */
  inputs?: Record<string, unknown> | ((runbook: Runbook) => Record<string, unknown>);
}): PreparedRun {
  const { inventory, env } = environmentOf(options.inventoryFile, options.envName);
  const doc = loadDocument(options.runbookFile, 'Runbook');
  const { errors, warnings } = applyRules(doc, { inventory, envName: options.envName });
  if (errors.length) throw errors.length === 1 ? errors[0]! : new UserErrors(errors);
  const runbook = doc.data as Runbook;
  return {
    runbook,
    source: doc.source,
    inventory,
    env,
    inputs: resolveInputs(
      runbook.inputs,
      typeof options.inputs === 'function' ? options.inputs(runbook) : options.inputs,
    ),
    warnings,
  };
}
