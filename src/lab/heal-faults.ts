// `lab up` repairs what a drill that died mid-fault left behind on the lab: PostgreSQL processes
// still stopped by SIGSTOP (freeze) and iptables rules still cutting a node off (partition).
import { readdirSync, readFileSync } from 'node:fs';
import { run } from '../system/exec.js';
import { PARTITION_CHAIN } from '../system/partition-chain.js';
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

/** Direct children of pid, from /proc (by parent PID, never by name). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((p) => {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    });
}

export async function healDrillFaults(
  paths: LabPaths,
  config: LabConfig,
  report: (line: string) => void,
): Promise<void> {
  for (const node of config.nodes) {
    const pid = postmasterPid(paths, node.name);
    if (!pid) continue;
    const stopped = [pid, ...childrenOf(pid)].filter((p) => stateOf(p) === 'T');
    for (const p of stopped) process.kill(p, 'SIGCONT');
    if (stopped.length) report(`${node.name}: resumed ${stopped.length} process(es) a drill had frozen`);
  }
  if (process.getuid?.() !== 0) return;
  for (const node of config.nodes) {
    let removed = 0;
    for (const rule of [`-d ${node.host} -p tcp -j DROP`, `-s ${node.host} -p tcp -j DROP`]) {
      while (
        await run('iptables', ['-D', PARTITION_CHAIN, ...rule.split(' ')]).then(
          () => true,
          () => false,
        )
      )
        removed++;
    }
    if (removed) report(`${node.name}: removed ${removed} partition rule(s) a drill had left`);
  }
}
