// A daemon in its own process for the signal and multi-daemon tests: the real claims, signal
// handling and log of `drillbook daemon`, a schedule every few seconds and a fake drill that sleeps
// (and on abort "reverts and restores"). Each drill it starts leaves a file in `executions`.
//
//   node --import tsx test/schedule/daemon-child.ts '{"stateDir": ..., ...}'
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { processOutput } from '../../src/system/output.js';
import { daemonId } from '../../src/schedule/claims.js';
import {
  startDaemon,
  type DrillRunner,
  type ScheduledDrill,
  type StopMode,
} from '../../src/schedule/daemon.js';
import { loadScheduledDrills } from '../../src/schedule/drills.js';
import { daemonLog } from '../../src/schedule/log.js';
import { drillSchedule } from '../../src/schedule/occurrences.js';
import { claimsByDrill, postSlack, untilStopped } from '../../src/schedule/run-daemon.js';

export interface ChildConfig {
  stateDir: string;
  executions: string;
  /** Six fields (seconds first). */
  cron: string;
  drillMs: number;
  onStop: StopMode;
  heartbeatMs: number;
  staleMs: number;
  /** Drill files (with an inventory that names the coordination database); else one local drill. */
  drillDir?: string;
}

const config = JSON.parse(process.argv[2]!) as ChildConfig;
const schedule = (name: string) => drillSchedule(name, { cron: config.cron }, { seconds: true });
const drills: ScheduledDrill[] = config.drillDir
  ? loadScheduledDrills(config.drillDir).map((d) => ({ ...d, schedule: schedule(d.name) }))
  : [{ name: 'fake', file: 'fake.yaml', environment: 'lab', schedule: schedule('fake') }];

let n = 0;
const runDrill: DrillRunner = async ({ signal }) => {
  const record = join(config.executions, `${process.pid}-${++n}.json`);
  writeFileSync(record, JSON.stringify({ pid: process.pid, state: 'running' }));
  const aborted = await sleep(config.drillMs, false, { signal }).catch(() => true);
  if (aborted) await sleep(100); // the fault is reverted and the environment restored
  writeFileSync(record, JSON.stringify({ pid: process.pid, state: aborted ? 'restored' : 'finished' }));
  return {
    runId: `fake-${process.pid}-${n}`,
    verdict: aborted ? 'aborted' : 'pass',
    exitCode: aborted ? 1 : 0,
  };
};

const now = () => new Date();
const log = daemonLog(processOutput, { json: true, now });
const daemon = daemonId();
const d = startDaemon({
  drills,
  runDrill,
  ...claimsByDrill(drills, { stateDir: config.stateDir, daemon, staleMs: config.staleMs, now }),
  stateDir: config.stateDir,
  log,
  heartbeatMs: config.heartbeatMs,
  postSlack,
});
log({ event: 'start', message: `daemon ${daemon}`, daemon });
await untilStopped(d, log, config.onStop);
