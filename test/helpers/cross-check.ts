// The drill's figures checked against a client written with another stack (independent-client.py:
// libpq through psycopg2): a primary-kill drill derived from drills/primary-kill.yaml runs on a
// private lab while the independent client writes through the same router, with the connect
// timeout, write timeout and reconnect delay of the drill's `independent-twin` profile.
//
// "Longest gap" means the same on both sides: the longest time between two consecutive
// acknowledged writes. The independent client writes through the whole drill, failback included,
// so its acknowledgements are split where the drill splits its own: the failover window (a gap
// that ends at or after the fault and before the restore starts) is compared with the twin's
// longestGapMs (the failover's figure: the drill counts the writes that ended before it read the
// rows back, which is before the restore), and the restore window (a gap that ends after the
// restore started) with the twin's restoreOutageMs. The drill's times are on its run clock; the
// journal's events carry both that clock (`t`) and the wall clock (`ts`), which maps them onto
// the independent client's epoch milliseconds.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { runDrill } from '../../src/drill/run-drill.js';
import type { DrillOutcome } from '../../src/drill/phases/state.js';
import { readJournal } from '../../src/engine/journal.js';
import type { ClientFigures } from '../../src/schema/drill-outcome.js';
import { journalPath } from '../../src/system/run-paths.js';
import {
  startIndependentClient,
  type IndependentClientOptions,
  type IndependentClientResult,
} from './independent-client.js';
import { readSecret } from './lab.js';
import type { PrivateLab } from './private-lab.js';

/** The drill's figure and the independent client's must agree within this (issue 15). */
export const AGREEMENT_MS = 150;
export const TWIN = 'independent-twin';

/**
 * The independent client's settings, and the twin profile's in the drill's words. libpq's
 * connect_timeout is whole seconds (and takes 1 as 2), so the twin waits 2 s too; its write
 * timeout is statement_timeout plus tcp_user_timeout there, the probe's own timer here.
 */
const TWIN_SETTINGS = { connectTimeoutS: 2, writeTimeoutMs: 2000, reconnectDelayMs: 50, intervalMs: 50 };
const TWIN_PROFILE = {
  name: TWIN,
  connectTimeout: `${TWIN_SETTINGS.connectTimeoutS}s`,
  writeTimeout: `${TWIN_SETTINGS.writeTimeoutMs}ms`,
  reconnectDelay: `${TWIN_SETTINGS.reconnectDelayMs}ms`,
};

/** A shipped drill with absolute runbook paths and the twin profile added after its own. */
export function writeCrossCheckDrill(dir: string, shipped = 'drills/primary-kill.yaml'): string {
  const SHIPPED_DRILL = resolve(shipped);
  const drill = parse(readFileSync(SHIPPED_DRILL, 'utf8')) as {
    metadata: { name: string };
    runbook: string;
    restore: string;
    schedule?: unknown;
    probe: { interval: string; clients?: object[] };
  };
  const base = dirname(SHIPPED_DRILL);
  drill.runbook = resolve(base, drill.runbook);
  drill.restore = resolve(base, drill.restore);
  delete drill.schedule;
  if (drill.probe.interval !== `${TWIN_SETTINGS.intervalMs}ms`)
    throw new Error(
      `${SHIPPED_DRILL}: the twin writes every ${TWIN_SETTINGS.intervalMs} ms, the probe every ${drill.probe.interval}`,
    );
  drill.probe.clients = [...(drill.probe.clients ?? []), TWIN_PROFILE];
  const file = join(dir, `${drill.metadata.name}-cross-check.yaml`);
  writeFileSync(file, stringify(drill));
  return file;
}

export interface CrossCheck {
  outcome: DrillOutcome;
  independent: IndependentClientResult;
  twin: ClientFigures;
  /** The independent client's longest gap in the failover window, and in the restore window. */
  failoverGapMs: number;
  restoreGapMs?: number;
}

/** One primary-kill drill with the independent client writing beside the drill's probes. */
export async function crossCheckDrill(
  lab: PrivateLab,
  stateDir: string,
  drillFile: string,
): Promise<CrossCheck> {
  const env = lab.environment;
  const options: IndependentClientOptions = {
    ...env.routers!.main!.listen,
    database: env.postgres.database,
    user: env.postgres.user!,
    password: readSecret(env.postgres.password),
    ...TWIN_SETTINGS,
  };
  const client = await startIndependentClient(options);
  // The writer is stopped whatever happened, so none outlives the test.
  const outcome = await runDrill(
    { drillFile, inventoryFile: lab.inventoryPath, stateDir },
    { out: () => undefined, err: () => undefined },
  ).finally(() => client.stop().catch(() => undefined));
  const independent = await client.stop();
  return compare(outcome, independent, runClockToEpoch(stateDir, outcome.runId));
}

/** Epoch ms minus run-clock ms, from the journal's events (median: `ts` is whole milliseconds). */
function runClockToEpoch(stateDir: string, runId: string): number {
  const offsets = readJournal(journalPath(stateDir, runId))
    .events.map((e) => Date.parse(e.ts) - e.t)
    .sort((a, b) => a - b);
  if (!offsets.length) throw new Error(`run ${runId} has no events`);
  return offsets[Math.floor(offsets.length / 2)]!;
}

function compare(outcome: DrillOutcome, independent: IndependentClientResult, offset: number): CrossCheck {
  const f = outcome.figures;
  const twin = f?.clients?.find((c) => c.name === TWIN);
  if (!f || !twin) throw new Error(`the drill has no figures for ${TWIN}: ${JSON.stringify(outcome)}`);
  const faultAt = f.faultAt + offset;
  const restoreStarted = f.timeline?.find((m) => m.mark === 'restore-started')?.at;
  const restoreAt = restoreStarted === undefined ? Infinity : restoreStarted + offset;
  const failover = longestGap(independent.ackedAt, faultAt, restoreAt);
  const restore =
    restoreStarted === undefined ? undefined : longestGap(independent.ackedAt, restoreAt, Infinity);
  return {
    outcome,
    independent,
    twin,
    failoverGapMs: failover ?? 0,
    restoreGapMs: restore,
  };
}

/** The longest time between consecutive acknowledgements, over those whose second one is in [from, to). */
function longestGap(ackedAt: readonly number[], from: number, to: number): number | undefined {
  let longest: number | undefined;
  for (let k = 1; k < ackedAt.length; k++) {
    const end = ackedAt[k]!;
    if (end >= from && end < to) longest = Math.max(longest ?? 0, end - ackedAt[k - 1]!);
  }
  return longest;
}
