// An environment whose restore failed is marked degraded: the next drill refuses to start until a
// steady-state check finds it healthy again (and then the mark is cleared).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DegradedMark {
  environment: string;
  since: string;
  runId: string;
  reason: string;
  manualSteps: string[];
}

const markPath = (stateDir: string, env: string) => join(stateDir, 'degraded', `${env}.json`);

export function markDegraded(stateDir: string, mark: DegradedMark): string {
  const path = markPath(stateDir, mark.environment);
  mkdirSync(join(stateDir, 'degraded'), { recursive: true });
  writeFileSync(path, JSON.stringify(mark, null, 2) + '\n');
  return path;
}

export function readDegraded(stateDir: string, env: string): DegradedMark | undefined {
  const path = markPath(stateDir, env);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as DegradedMark) : undefined;
}

export const clearDegraded = (stateDir: string, env: string) =>
  rmSync(markPath(stateDir, env), { force: true });
