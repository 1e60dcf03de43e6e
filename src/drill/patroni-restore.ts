// The first half of a Patroni cluster's restore: members the fault left dead are started again
// (the drill's repair: lab up on the lab), and every member must run again before the restore
// runbook (runbooks/patroni-switchback.yaml) hands the leader back to the steady-state primary.
import { setTimeout as sleep } from 'node:timers/promises';
import { patroniCluster } from '../connectors/patroni.js';
import { errorMessage } from '../errors.js';
import type { DrillState } from './phases/state.js';
import { patroniApiOf } from './patroni-watch.js';

const MEMBERS_RUNNING_MS = 60_000;

/** Repairs the members; resolves with what is still wrong (nothing when every member runs). */
export async function repairPatroniMembers(s: DrillState): Promise<string | undefined> {
  const { env, inventoryFile } = s.loaded;
  if (env.ha?.manager !== 'patroni') return undefined;
  const log = (message: string) => s.w.emitter.emit({ type: 'log', level: 'info', message });
  try {
    const lines = await s.options.repair?.(inventoryFile);
    if (lines) log(`repaired the lab: ${lines.join('; ')}`);
  } catch (err) {
    return `the repair failed: ${errorMessage(err)}`;
  }
  const api = await patroniApiOf(env, s.w.secret);
  const deadline = performance.now() + MEMBERS_RUNNING_MS;
  let seen = 'no answer';
  while (performance.now() < deadline) {
    const cluster = await patroniCluster(api).catch((err: unknown) => errorMessage(err));
    if (typeof cluster !== 'string') {
      const members = cluster.members.map((m) => `${m.name} ${m.role} ${m.state}`);
      seen = members.join(', ');
      const expected = Object.keys(env.postgres.nodes).length;
      if (
        cluster.members.length === expected &&
        cluster.members.every((m) => m.state === 'running' || m.state === 'streaming')
      ) {
        log(`every Patroni member runs again: ${seen}`);
        return undefined;
      }
    } else seen = cluster;
    await sleep(500);
  }
  return `Patroni members not all running after ${MEMBERS_RUNNING_MS / 1000} s (${seen}); start Patroni on the dead nodes`;
}
