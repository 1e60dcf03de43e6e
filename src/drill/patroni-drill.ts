// A drill on a Patroni cluster (env.ha.manager patroni): Patroni fails over by itself, so the drill
// watches it (./patroni-watch.ts) and judges what it saw against what the drill expects — a
// failover, or none (a PostgreSQL restart in place, a lost DCS member): a leader change then is a
// false failover.
import { errorMessage } from '../errors.js';
import { judgedIndex } from './client-profiles.js';
import type { PatroniFigures, TimelineMark } from '../schema/drill-outcome.js';
import type { DrillMeasurement } from './phases/measure.js';
import type { DrillState } from './phases/state.js';
import { PatroniWatch } from './patroni-watch.js';

export async function startPatroniWatch(s: DrillState): Promise<PatroniWatch | undefined> {
  if (s.loaded.env.ha?.manager !== 'patroni') return undefined;
  return PatroniWatch.start(s.loaded.env, s.w.secret, s.runId, s.intervalMs);
}

/**
 * Stops the watch (one ttl after a timed fault ended) and gives what Patroni did, taken before the
 * restore hands the leader back. The judged profile's writes tell when HAProxy sent writes to the
 * new leader and when clients were back.
 */
export async function stopPatroniWatch(
  s: DrillState,
  watch: PatroniWatch | undefined,
): Promise<{ figures?: PatroniFigures; reasons: string[] }> {
  if (!watch) return { reasons: [] };
  try {
    // A node a timed fault held back has just returned: the cluster must hold its leader through it.
    if (s.fault.fault?.timed && !s.aborted) await watch.settle(AbortSignal.any([s.w.signal, s.stop.signal]));
    const writes = s.probes[judgedIndex(s.clients, s.judged)]?.writes ?? [];
    return { figures: await watch.stop(s.faultAt, writes, s.loaded.env), reasons: [] };
  } catch (err) {
    return { reasons: [`could not watch Patroni: ${errorMessage(err)}`] };
  }
}

/** Patroni's chain on the drill's one timeline (run clock): what only the watch saw. */
const chainMarks = (p: PatroniFigures, faultAt: number): TimelineMark[] =>
  p.chain.flatMap((c) =>
    // The label says it all for a lost key; the other links name the member.
    c.mark ? [{ mark: c.mark, at: faultAt + c.ms, ...(c.mark !== 'leader-lost' && { detail: c.what }) }] : [],
  );

/** Adds Patroni's figures to the measurement (before the verdict counts split brain); gives the reasons they fail the drill. */
export function judgePatroni(
  s: DrillState,
  patroni: PatroniFigures | undefined,
  m: DrillMeasurement,
): string[] {
  const reasons: string[] = [];
  if (!patroni) return reasons;
  const f = m.figures;
  // A leader that stayed yet made clients wait restarted its PostgreSQL under Patroni's watch.
  patroni.outcome = patroni.failover
    ? 'failover'
    : f.outage
      ? 'recovered in place, no failover'
      : 'no failover';
  f.patroni = patroni;
  // The watch counts split brain between Patroni's election and the old leader leading again (if it
  // does): the generic count, from the runbook's own promotion step on, would take the writes of an
  // old leader that legitimately leads again for a split brain.
  f.splitBrainWrites = patroni.splitBrainWrites;
  f.timeline = [...(f.timeline ?? []), ...chainMarks(patroni, f.faultAt)].sort((a, b) => a.at - b.at);
  const expect = s.loaded.drill.fault?.expect ?? 'failover';
  const moved = `${patroni.leaderBefore} → ${patroni.leaderAfter}`;
  // A fault that never struck (the drill aborted) says nothing about Patroni.
  if (!s.aborted && expect === 'failover' && s.fault.fault && !patroni.failover)
    reasons.push(`Patroni elected no new leader (${patroni.leaderBefore} still leads)`);
  if (expect === 'no-failover' && patroni.failover)
    reasons.push(`false failover: Patroni moved the leader ${moved}`);
  const again = patroni.leaderMovedAgain;
  if (expect === 'failover' && again)
    reasons.push(
      `Patroni did not hold its new leader: ${again.name} took the leader key ${again.ms} ms after the fault (clients saw a second failover)`,
    );
  s.w.emitter.emit({
    type: 'log',
    level: 'info',
    message: `patroni: ${patroni.outcome}, leader ${moved}; ${patroni.chain.map((c) => `${c.what} +${c.ms} ms`).join(' → ')}${patroni.history ? `; /history ${patroni.history}` : ''}`,
  });
  return reasons;
}
