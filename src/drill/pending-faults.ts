// A fault is recorded before it is injected and forgotten after its revert, so that when drillbook
// dies mid-drill (kill -9 included) the next drill or resume on that environment reverts it first.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PendingFault {
  runId: string;
  environment: string;
  inventoryFile: string;
  kind: string;
  node: string;
  durationMs?: number;
  since: string;
}

const dirOf = (stateDir: string) => join(stateDir, 'faults');
const fileOf = (stateDir: string, runId: string) => join(dirOf(stateDir), `${runId}.json`);

export function recordFault(stateDir: string, fault: PendingFault): void {
  mkdirSync(dirOf(stateDir), { recursive: true });
  writeFileSync(fileOf(stateDir, fault.runId), JSON.stringify(fault, null, 2) + '\n');
}

export const forgetFault = (stateDir: string, runId: string) =>
  rmSync(fileOf(stateDir, runId), { force: true });

/** Faults of runs that never reverted them, for one environment. */
export function pendingFaults(stateDir: string, environment: string): PendingFault[] {
  if (!existsSync(dirOf(stateDir))) return [];
  return readdirSync(dirOf(stateDir))
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dirOf(stateDir), f), 'utf8')) as PendingFault)
    .filter((f) => f.environment === environment);
}
