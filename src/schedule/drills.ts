// The scheduled drills of a directory: every *.yaml / *.yml file in it (not below) that is a Drill
// with a `schedule:`. Files that do not load are reported with their located errors; valid files of
// another kind (an inventory kept beside the drills) are passed over.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadDrill } from '../drill/load-drill.js';
import { UserError, UserErrors } from '../errors.js';
import { checkFile } from '../runbook/check.js';
import type { Drill } from '../schema/drill.js';
import type { CronOptions } from '../cron.js';
import type { ScheduledDrill } from './daemon.js';
import { drillSchedule } from './occurrences.js';

export const DEFAULT_DRILL_DIR = 'drills';

export function yamlFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new UserError(`cannot read drill directory ${dir}: ${(err as NodeJS.ErrnoException).code}`);
  }
  return names
    .filter((n) => /\.ya?ml$/.test(n))
    .sort()
    .map((n) => join(dir, n));
}

export interface DrillFileResult {
  file: string;
  drill?: Drill;
  errors: UserError[];
}

/** Drill files with a schedule, each checked (schema and rules) without connecting anywhere. */
export function checkScheduledFiles(dir: string): DrillFileResult[] {
  return yamlFiles(dir).flatMap((file) => {
    const r = checkFile(file);
    if (r.errors.length) return [{ file, errors: r.errors }];
    return r.doc?.kind === 'Drill' && r.doc.data.schedule ? [{ file, drill: r.doc.data, errors: [] }] : [];
  });
}

/** The scheduled drills the daemon runs, with their inventories loaded; all errors at once. */
export function loadScheduledDrills(
  dir: string,
  options: { inventoryFile?: string } & Pick<CronOptions, 'seconds'> = {},
): ScheduledDrill[] {
  const errors: UserError[] = [];
  const drills: ScheduledDrill[] = [];
  for (const { file, drill, errors: found } of checkScheduledFiles(dir)) {
    errors.push(...found);
    if (!drill) continue;
    try {
      const loaded = loadDrill(file, options.inventoryFile);
      drills.push({
        name: drill.metadata.name,
        file: loaded.file,
        environment: loaded.env.name,
        coordination: loaded.env.coordination,
        restoreFile: loaded.restoreFile,
        slack: loaded.env.slack,
        schedule: drillSchedule(drill.metadata.name, drill.schedule!, options),
      });
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      errors.push(...(err instanceof UserErrors ? err.errors : [err]));
    }
  }
  if (errors.length) throw errors.length === 1 ? errors[0]! : new UserErrors(errors);
  const names = new Map<string, string>();
  for (const d of drills) {
    const other = names.get(d.name);
    // Claims and state are keyed by the drill's name: two files with one name would share them.
    if (other) throw new UserError(`two scheduled drills are named "${d.name}": ${other} and ${d.file}`);
    names.set(d.name, d.file);
  }
  return drills;
}
