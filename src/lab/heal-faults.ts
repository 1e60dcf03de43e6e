// `lab up` repairs what a drill that died mid-fault left behind on the lab: PostgreSQL processes
// still stopped by SIGSTOP (freeze) and iptables rules still cutting a node off (partition), with its
// processes still in the partition's cgroup.
import { readFileSync } from 'node:fs';
import {
  cgroup2Root,
  leavePartitionCgroup,
  deletePartitionRules,
  withDescendants,
} from '../system/partition-chain.js';
import type { LabConfig } from './config.js';
import type { LabPaths } from './paths.js';
import { postmasterPid } from './postgres.js';

const stateOf = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
};

export async function healDrillFaults(
  paths: LabPaths,
  config: LabConfig,
  report: (line: string) => void,
): Promise<void> {
  for (const node of config.nodes) {
    const pid = postmasterPid(paths, node.name);
    if (!pid) continue;
    const stopped = withDescendants([pid]).filter((p) => stateOf(p) === 'T');
    for (const p of stopped) process.kill(p, 'SIGCONT');
    if (stopped.length) report(`${node.name}: resumed ${stopped.length} process(es) a drill had frozen`);
  }
  if (process.getuid?.() !== 0) return;
  for (const node of config.nodes) {
    const removed = await deletePartitionRules(node.host);
    const root = cgroup2Root();
    const released = root ? leavePartitionCgroup(root, node.host) : 0;
    if (removed || released)
      report(
        `${node.name}: removed ${removed} partition rule(s) a drill had left, released ${released} process(es)`,
      );
  }
}
