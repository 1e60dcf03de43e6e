// What a partition fault adds to the firewall, named once for the fault that adds it and for `lab
// up`, which clears what a drill that died mid-fault left behind.
//
// Address rules alone do not cut a node that shares its machine with the others (the lab, every
// node on loopback): a connection a node's process opens to another node leaves from 127.0.0.1
// (the kernel's source address for loopback), not from the node's address. So the processes that
// belong to the node — each one whose every listening socket is on the node's address: its
// PostgreSQL, Patroni, etcd member, with their children — go into a cgroup (v2) of their own, and
// iptables drops what that cgroup sends. A process shared by several nodes (one sshd listening on
// every address) stays where it is: the address rules cut it for this node.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './exec.js';

export const PARTITION_CHAIN = 'DRILLBOOK-PARTITION';

/** The cgroup holding a partitioned node's processes, below the cgroup2 root (one per address machine-wide). */
export const partitionCgroup = (host: string) => `drillbook-partition-${host}`;

/** The DROP rules (iptables arguments after `-A CHAIN`) that cut `host` off. */
export function partitionRules(host: string, withCgroup: boolean): string[][] {
  return [
    ['-d', host, '-p', 'tcp', '-j', 'DROP'],
    ['-s', host, '-p', 'tcp', '-j', 'DROP'],
    ...(withCgroup ? [['-m', 'cgroup', '--path', partitionCgroup(host), '-p', 'tcp', '-j', 'DROP']] : []),
  ];
}

/** Where cgroup v2 is mounted, from /proc/mounts; undefined without one. */
export function cgroup2Root(): string | undefined {
  const line = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .find((l) => l.split(' ')[2] === 'cgroup2');
  return line?.split(' ')[1];
}

/** PIDs whose every listening TCP socket is on `host` (and that listen on it at all). */
export async function processesOwning(host: string): Promise<number[]> {
  const { stdout } = await run('ss', ['-Hltnp']);
  const onHost = new Map<number, boolean>();
  for (const line of stdout.split('\n')) {
    const local = line.trim().split(/\s+/)[3];
    if (!local) continue;
    const exclusive = local.slice(0, local.lastIndexOf(':')) === host;
    for (const [, pid] of line.matchAll(/pid=(\d+)/g)) {
      onHost.set(Number(pid), (onHost.get(Number(pid)) ?? true) && exclusive);
    }
  }
  return [...onHost].filter(([, exclusive]) => exclusive).map(([pid]) => pid);
}

/** Every descendant of the given PIDs (by parent PID in /proc, never by name), the PIDs included. */
export function withDescendants(pids: readonly number[]): number[] {
  const parentOf = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parentOf.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const all = new Set(pids);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, parent] of parentOf) {
      if (!all.has(pid) && all.has(parent)) {
        all.add(pid);
        grew = true;
      }
    }
  }
  return [...all];
}

/** Moves the node's processes into its partition cgroup; gives how many moved. */
export function enterPartitionCgroup(root: string, host: string, pids: readonly number[]): number {
  const dir = join(root, partitionCgroup(host));
  mkdirSync(dir, { recursive: true });
  let moved = 0;
  for (const pid of pids) {
    try {
      writeFileSync(join(dir, 'cgroup.procs'), String(pid));
      moved++;
    } catch {
      // exited meanwhile, or a kernel thread: nothing of the node's traffic
    }
  }
  return moved;
}

/**
 * Moves every process of the partition cgroup (children forked meanwhile too) back to the cgroup2
 * root, where the lab starts its processes, and removes the cgroup. Gives how many moved.
 */
export function leavePartitionCgroup(root: string, host: string): number {
  const dir = join(root, partitionCgroup(host));
  if (!existsSync(dir)) return 0;
  const pids = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
  for (const pid of pids) {
    try {
      writeFileSync(join(root, 'cgroup.procs'), pid);
    } catch {
      // exited meanwhile
    }
  }
  rmdirSync(dir);
  return pids.length;
}
