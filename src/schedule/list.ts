// `drillbook schedule list [DIR]`: each scheduled drill with its next occurrences in its own time
// zone, when each starts (after its jitter delay) and why one would be skipped.
import type { Output } from '../system/output.js';
import { readDegraded, type DegradedMark } from '../drill/degraded.js';
import { stateDirOf } from '../system/run-paths.js';
import { ExitCode } from '../errors.js';
import type { Drill } from '../schema/drill.js';
import { DEFAULT_DRILL_DIR, checkScheduledFiles } from './drills.js';
import { drillSchedule } from './occurrences.js';
import { readState, type DrillState } from './state.js';
import { jsonOutput } from '../json-output.js';
import { formatIn } from '../time-zone.js';

export interface ListOptions {
  dir?: string;
  count?: number;
  stateDir?: string;
  json?: boolean;
  /** List from this time instead of now. */
  from?: Date;
}

export interface ListedOccurrence {
  at: string;
  start: string;
  /** Why it would not run, if it would not. */
  skip?: string;
}

export interface ListedDrill {
  name: string;
  file: string;
  environment: string;
  cron: string;
  timezone: string;
  jitter?: string;
  catchUp: 'skip' | 'once';
  degraded?: DegradedMark;
  state?: DrillState;
  occurrences: ListedOccurrence[];
}

export const DEFAULT_LIST_COUNT = 5;

export function listSchedules(
  drill: Drill,
  file: string,
  o: { count: number; stateDir: string; from: Date },
): ListedDrill {
  const schedule = drill.schedule!;
  const s = drillSchedule(drill.metadata.name, schedule);
  const degraded = readDegraded(o.stateDir, drill.environment);
  const occurrences: ListedOccurrence[] = [];
  for (let next = s.next(o.from); next && occurrences.length < o.count; next = s.next(next.at)) {
    const blackout = s.blackout(next.start);
    const skip = blackout
      ? `in ${blackout}`
      : degraded
        ? `environment ${drill.environment} is degraded (${degraded.reason})`
        : undefined;
    occurrences.push({ at: next.at.toISOString(), start: next.start.toISOString(), skip });
  }
  return {
    name: drill.metadata.name,
    file,
    environment: drill.environment,
    cron: schedule.cron,
    timezone: s.timezone,
    jitter: schedule.jitter,
    catchUp: s.catchUp,
    degraded,
    state: readState(o.stateDir)[drill.metadata.name],
    occurrences,
  };
}

function formatDrill(d: ListedDrill): string[] {
  const lines = [
    `${d.name} (${d.file}) on ${d.environment}: "${d.cron}" in ${d.timezone}` +
      `${d.jitter ? `, jitter ${d.jitter}` : ''}, catchUp ${d.catchUp}`,
  ];
  if (d.state?.lastRun) {
    const r = d.state.lastRun;
    lines.push(`  last run: ${r.verdict} for ${r.occurrence}${r.runId ? ` (run ${r.runId})` : ''}`);
  }
  if (d.degraded) {
    lines.push(`  environment ${d.environment} degraded since ${d.degraded.since}: ${d.degraded.reason}`);
    for (const step of d.degraded.manualSteps) lines.push(`    to do: ${step}`);
  }
  if (!d.occurrences.length) lines.push('  no further occurrence');
  for (const x of d.occurrences) {
    const at = formatIn(new Date(x.at), d.timezone);
    const start = x.start === x.at ? '' : `  starts ${formatIn(new Date(x.start), d.timezone)}`;
    lines.push(`  ${at}${start}${x.skip ? `  skipped: ${x.skip}` : ''}`);
  }
  return lines;
}

export function listCommand(o: ListOptions, io: Output): number {
  const dir = o.dir ?? DEFAULT_DRILL_DIR;
  const results = checkScheduledFiles(dir);
  const listed = results.flatMap((r) =>
    r.drill
      ? [
          listSchedules(r.drill, r.file, {
            count: o.count ?? DEFAULT_LIST_COUNT,
            stateDir: stateDirOf(o.stateDir),
            from: o.from ?? new Date(),
          }),
        ]
      : [],
  );
  const errors = results.flatMap((r) => r.errors);
  for (const e of errors) io.err(e.format());
  if (o.json) io.out(jsonOutput({ drills: listed }, 2));
  else if (!listed.length) io.out(`no scheduled drill in ${dir}`);
  else io.out(listed.flatMap(formatDrill).join('\n'));
  return errors.length ? ExitCode.badInput : ExitCode.ok;
}
