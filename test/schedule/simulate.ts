// Runs the daemon on a virtual clock from `start` to `until` and returns what it logged and ran.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../src/schedule/clock.js';
import { fileClaims, type Claims } from '../../src/schedule/claims.js';
import {
  startDaemon,
  type DaemonOptions,
  type DrillRunner,
  type ScheduledDrill,
} from '../../src/schedule/daemon.js';
import type { DaemonEvent } from '../../src/schedule/log.js';
import { drillSchedule } from '../../src/schedule/occurrences.js';
import type { Schedule } from '../../src/schema/drill.js';
import { fakeClock } from './fake-clock.js';

export interface Simulation {
  events: DaemonEvent[];
  /** Each drill started: its name and the virtual time it started at (ISO). */
  runs: { drill: string; at: string; repaired?: string[] }[];
  stateDir: string;
}

export const scheduled = (
  name: string,
  schedule: Schedule,
  options: { seconds?: boolean } = {},
): ScheduledDrill => ({
  name,
  file: `drills/${name}.yaml`,
  environment: 'lab',
  restoreFile: 'runbooks/pg-failback.yaml',
  schedule: drillSchedule(name, schedule, options),
});

export async function simulate(o: {
  drills: ScheduledDrill[];
  start: string;
  until: string;
  stateDir?: string;
  /** How long each (fake) drill runs, in virtual milliseconds. */
  drillMs?: number;
  claims?: (clock: Clock) => Claims;
  repair?: DaemonOptions['repair'];
}): Promise<Simulation> {
  const stateDir = o.stateDir ?? mkdtempSync(join(tmpdir(), 'drillbook-schedule-'));
  const events: DaemonEvent[] = [];
  const runs: Simulation['runs'] = [];
  let stop = () => {};
  const clock = fakeClock(o.start, o.until, () => stop());
  const runDrill: DrillRunner = async (options) => {
    const drill = o.drills.find((d) => d.file === options.drillFile)!.name;
    const repaired = await options.repair?.('/lab/inventory.yaml');
    runs.push({ drill, at: clock.now().toISOString(), ...(repaired && { repaired }) });
    if (o.drillMs) await clock.sleep(o.drillMs, options.signal ?? new AbortController().signal);
    return { runId: `run-${runs.length}`, verdict: 'pass', exitCode: 0 };
  };
  const claims = o.claims?.(clock) ?? fileClaims(stateDir, 'test-daemon', clock.now);
  const daemon = startDaemon({
    drills: o.drills,
    runDrill,
    claimsFor: () => claims,
    allClaims: () => [claims],
    stateDir,
    repair: o.repair,
    log: (e) => events.push(e),
    clock,
    heartbeatMs: 60_000,
  });
  stop = () => daemon.stop('finish');
  await daemon.done;
  return { events, runs, stateDir };
}

/** The skip events with their occurrence (ISO) and reason. */
export const skips = (s: Simulation) =>
  s.events
    .filter((e) => e.event === 'skip')
    .map((e) => ({ occurrence: e.occurrence?.toISOString(), reason: e.reason }));
