// `drillbook daemon [DIR]` behind the thin CLI module: loads the scheduled drills, claims through
// each drill's coordination database (or local files), runs the real drill code, and turns SIGTERM
// and SIGINT into a clean stop.
import type { Output } from '../system/output.js';
import { slackPoster } from '../connectors/slack.js';
import { runDrill } from '../drill/run-drill.js';
import type { Slack } from '../schema/inventory.js';
import { stateDirOf } from '../system/run-paths.js';
import { Redactor } from '../connectors/redact.js';
import { ExitCode, UserError } from '../errors.js';
import { daemonId, fileClaims, type Claims } from './claims.js';
import { coordinationKey, pgClaims } from './coordination.js';
import {
  startDaemon,
  type Daemon,
  type DrillRunOptions,
  type ScheduledDrill,
  type StopMode,
} from './daemon.js';
import { DEFAULT_DRILL_DIR, loadScheduledDrills } from './drills.js';
import { daemonLog, type DaemonLog } from './log.js';

export interface DaemonCommandOptions {
  dir?: string;
  inventoryFile?: string;
  stateDir?: string;
  json?: boolean;
  /** What SIGTERM does to a drill in progress (default abort; a second signal always aborts). */
  onStop?: StopMode;
  heartbeatMs?: number;
  staleMs?: number;
  repair?: DrillRunOptions['repair'];
}

export const DEFAULT_HEARTBEAT_MS = 10_000;
/** Six missed heartbeats: a daemon under load or a short network blip is not declared dead. */
export const DEFAULT_STALE_MS = 60_000;

/** One message to an environment's channel, through the Slack connector. */
export async function postSlack(slack: Slack, text: string): Promise<void> {
  const redactor = new Redactor();
  const poster = await slackPoster(slack, { secret: (ref) => redactor.resolve(ref), redactor });
  await poster.post({ channel: slack.channel, text });
}

/** One Claims per coordination database (and one for the drills without), built up front. */
export function claimsByDrill(
  drills: ScheduledDrill[],
  o: { stateDir: string; daemon: string; staleMs: number; now: () => Date },
) {
  const byKey = new Map<string, Claims>();
  const keyOf = (d: ScheduledDrill) => (d.coordination ? coordinationKey(d.coordination) : 'local');
  for (const d of drills) {
    if (byKey.has(keyOf(d))) continue;
    byKey.set(
      keyOf(d),
      d.coordination
        ? pgClaims(d.coordination, { daemon: o.daemon, staleMs: o.staleMs })
        : fileClaims(o.stateDir, o.daemon, o.now),
    );
  }
  return { claimsFor: (d: ScheduledDrill) => byKey.get(keyOf(d))!, allClaims: () => [...byKey.values()] };
}

/**
 * Runs the daemon until it ends: the first SIGTERM or SIGINT stops it as `onStop` says, the next
 * one aborts the drills in progress. Drills get the daemon's signal, so their run sessions leave
 * the process's signals to the daemon.
 */
export async function untilStopped(d: Daemon, log: DaemonLog, onStop: StopMode): Promise<void> {
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    log({ event: 'stop', message: `${signal} received` });
    d.stop(signals > 1 ? 'abort' : onStop);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await d.done;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

export async function daemonCommand(o: DaemonCommandOptions, io: Output): Promise<number> {
  const stateDir = stateDirOf(o.stateDir);
  const dir = o.dir ?? DEFAULT_DRILL_DIR;
  const drills = loadScheduledDrills(dir, { inventoryFile: o.inventoryFile });
  if (!drills.length) throw new UserError(`no drill with a schedule in ${dir}: nothing to run`);
  const daemon = daemonId();
  const now = () => new Date();
  const log = daemonLog(io, { json: o.json, now });
  const heartbeatMs = o.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const staleMs = o.staleMs ?? DEFAULT_STALE_MS;
  // A live daemon must not look dead because of one late heartbeat.
  if (staleMs < 3 * heartbeatMs)
    throw new UserError(`--stale (${staleMs}ms) must be at least three heartbeats (${3 * heartbeatMs}ms)`);
  const d = startDaemon({
    drills,
    runDrill,
    ...claimsByDrill(drills, { stateDir, daemon, staleMs, now }),
    stateDir,
    inventoryFile: o.inventoryFile,
    repair: o.repair,
    log,
    heartbeatMs,
    postSlack,
  });
  await untilStopped(d, log, o.onStop ?? 'abort');
  return ExitCode.ok;
}
