// A drill file with everything it names: the inventory, the runbook, the restore runbook. The
// staging guard lives here, so a drill aimed at production is refused before any connection.
import { dirname, resolve } from 'node:path';
import { UserError, UserErrors } from '../errors.js';
import { applyRules, loadInventory } from '../runbook/check.js';
import { loadDocument } from '../runbook/load.js';
import { defaultInventoryPath } from '../runbook/prepare.js';
import type { Drill } from '../schema/drill.js';
import type { Environment } from '../schema/inventory.js';

export interface LoadedDrill {
  drill: Drill;
  file: string;
  inventoryFile: string;
  runbookFile: string;
  restoreFile?: string;
  env: Environment & { name: string };
}

export function loadDrill(drillFile: string, inventoryOption?: string): LoadedDrill {
  const doc = loadDocument(drillFile, 'Drill');
  const drill = doc.data as Drill;
  const base = dirname(resolve(drillFile));
  const inventoryFile = drill.inventory
    ? resolve(base, drill.inventory)
    : defaultInventoryPath(inventoryOption);
  const inventory = loadInventory(inventoryFile);
  const { errors } = applyRules(doc, { inventory });
  if (errors.length) throw errors.length === 1 ? errors[0]! : new UserErrors(errors);
  const env = inventory.data.environments[drill.environment];
  // The drill-staging rule said so already; this is the guard itself, kept next to its use.
  if (env?.label !== 'staging') {
    throw new UserError(
      `refusing to drill environment "${drill.environment}": drills run only on environments labelled staging`,
    );
  }
  return {
    drill,
    file: resolve(drillFile),
    inventoryFile,
    runbookFile: resolve(base, drill.runbook),
    restoreFile: drill.restore ? resolve(base, drill.restore) : undefined,
    env: { ...env, name: drill.environment },
  };
}
