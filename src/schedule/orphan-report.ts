// What the daemon does about an orphaned drill (its daemon stopped while it ran): it marks the
// environment degraded, says so in the log and, where the environment has one, on Slack.
import { markDegraded } from '../drill/degraded.js';
import { errorMessage } from '../errors.js';
import type { Orphan } from './claims.js';
import type { DaemonOptions } from './daemon.js';

/** Reports one orphan; returns the Slack post in flight (it never rejects), to await before exit. */
export function reportOrphan(
  o: Pick<DaemonOptions, 'drills' | 'stateDir' | 'log' | 'postSlack'>,
  orphan: Orphan,
  now: Date,
): Promise<void> | undefined {
  const { log } = o;
  const d = o.drills.find((x) => x.name === orphan.drill);
  const restore = d?.restoreFile
    ? `drillbook run ${d.restoreFile} --env ${orphan.environment}`
    : `restore environment ${orphan.environment}`;
  const reason = `daemon ${orphan.daemon} stopped while running drill ${orphan.drill} (occurrence ${orphan.occurrence.toISOString()}, last heartbeat ${orphan.lastHeartbeat.toISOString()})`;
  // Not rerun: the environment may still carry the fault. The degraded mark holds this daemon's
  // drills on it until a manual drill finds it healthy.
  markDegraded(o.stateDir, {
    environment: orphan.environment,
    since: now.toISOString(),
    runId: `orphan:${orphan.drill}@${orphan.occurrence.toISOString()}`,
    reason,
    manualSteps: [restore, `drillbook drill ${d?.file ?? orphan.drill} (checks the steady state first)`],
  });
  const message = `${reason}; environment ${orphan.environment} may still carry the fault and needs a restore: ${restore}; not rerun`;
  const at = { drill: orphan.drill, occurrence: orphan.occurrence, timezone: d?.schedule.timezone };
  log({ ...at, event: 'orphan', message, environment: orphan.environment, daemon: orphan.daemon });
  if (!d?.slack || !o.postSlack) return undefined;
  // A person has to act: the one decision worth a Slack message of its own.
  return o
    .postSlack(d.slack, `:warning: drillbook daemon: ${message}`)
    .catch((err) => log({ ...at, event: 'error', message: `cannot post to Slack: ${errorMessage(err)}` }));
}
