// What a scheduler remembers between starts, per drill, in <state>/schedule/state.json: since when
// it watches the drill and the last occurrence it handled (ran, or decided to skip), so that the
// occurrences missed while no scheduler ran can be told apart at the next start (catch-up).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface DrillState {
  watchedSince: string;
  /** The last occurrence handled, by its cron match (ISO). */
  lastOccurrence?: string;
  lastRun?: { occurrence: string; runId?: string; verdict: string; finishedAt: string };
}

export const statePath = (stateDir: string) => resolve(stateDir, 'schedule', 'state.json');

export function readState(stateDir: string): Record<string, DrillState> {
  try {
    return (JSON.parse(readFileSync(statePath(stateDir), 'utf8')) as { drills: Record<string, DrillState> })
      .drills;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
}

/** Changes one drill's entry. Read again right before writing, and replaced by a rename, so a
 * reader never sees half a file and another daemon's entries on the same machine survive. */
export function updateState(
  stateDir: string,
  drill: string,
  change: (s: DrillState) => DrillState,
): DrillState {
  const path = statePath(stateDir);
  const drills = readState(stateDir);
  const next = change(drills[drill] ?? { watchedSince: new Date().toISOString() });
  drills[drill] = next;
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.state.${process.pid}.json`);
  writeFileSync(tmp, JSON.stringify({ drills }, null, 2) + '\n');
  renameSync(tmp, path);
  return next;
}
