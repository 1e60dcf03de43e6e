// Integration tests and the lab: scripts/test.sh brings up a test lab and exports DRILLBOOK_TEST_LAB
// (its directory). Use it like this:
//
//   test('promotes a replica', async (t) => {
//     const lab = requireLab(t);
//     if (!lab) return; // skipped: no lab outside CI
//     const pg1 = lab.environment.postgres.nodes.pg1; // { host, port, ... }
//     const password = readSecret(lab.environment.postgres.password);
//   });
//
// Leave the lab as you found it (the suite shares one): undo DNS, router and role changes.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { parse } from 'yaml';
import type { Environment, Inventory } from '../../src/schema/inventory.js';

export interface TestLab {
  /** The lab directory (absolute). */
  dir: string;
  /** Its inventory.yaml, as `--inventory` takes it. */
  inventoryPath: string;
  inventory: Inventory;
  /** The inventory's `lab` environment (label staging). */
  environment: Environment;
}

export const TEST_LAB_ENV = 'DRILLBOOK_TEST_LAB';

/** The lab named by DRILLBOOK_TEST_LAB, or undefined when it is unset or has no inventory. */
export function testLab(): TestLab | undefined {
  const dir = process.env[TEST_LAB_ENV];
  if (!dir) return undefined;
  const inventoryPath = join(resolve(dir), 'inventory.yaml');
  if (!existsSync(inventoryPath)) return undefined;
  const inventory = parse(readFileSync(inventoryPath, 'utf8')) as Inventory;
  const environment = inventory.environments.lab;
  if (!environment) throw new Error(`${inventoryPath} has no "lab" environment`);
  return { dir: resolve(dir), inventoryPath, inventory, environment };
}

/**
 * The test lab, or: with CI=true a thrown error (a CI run must not silently skip integration
 * tests), otherwise t.skip() with a hint and undefined.
 */
export function requireLab(t: TestContext): TestLab | undefined {
  const lab = testLab();
  if (lab) return lab;
  const why = `no test lab: run scripts/test.sh, or drillbook lab up --dir DIR and export ${TEST_LAB_ENV}=DIR`;
  if (process.env.CI === 'true') throw new Error(why);
  t.skip(why);
  return undefined;
}

/** The value behind an inventory secret reference (`file:PATH` or `env:NAME`). */
export function readSecret(ref: string | undefined): string {
  if (ref?.startsWith('file:')) return readFileSync(ref.slice('file:'.length), 'utf8').trim();
  if (ref?.startsWith('env:')) return process.env[ref.slice('env:'.length)] ?? '';
  throw new Error(`not a secret reference: ${String(ref)}`);
}

/** A call to the lab Slack endpoint's /_control/ API (messages, rate-limit), which wants the bot token. */
export function slackControl(env: Environment, path: string, init: RequestInit = {}): Promise<Response> {
  const url = new URL(path, env.slack!.apiUrl!.replace(/api\/?$/, ''));
  const headers = {
    ...(init.headers as Record<string, string>),
    Authorization: `Bearer ${readSecret(env.slack!.token)}`,
  };
  return fetch(url, { ...init, headers });
}
