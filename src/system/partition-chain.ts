// What a partition fault adds to the firewall, named once for the fault that adds it and for `lab
// up`, which clears what a drill that died mid-fault left behind.
//
// Address rules alone do not cut a node that shares its machine with the others (the lab, every
// node on loopback): a connection a node's process opens to another node leaves from 127.0.0.1
// (the kernel's source address for loopback), not from the node's address. So the processes that
// belong to the node — each one whose every listening socket is on the node's address: its
// PostgreSQL, Patroni, etcd member, with their children — go into a cgroup (v2) of their own, and
// iptables drops what that cgroup sends (and what their connections already open send). A process shared by several nodes (one sshd listening on
// every address) stays where it is: the address rules cut it for this node.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './exec.js';

export const PARTITION_CHAIN = 'DRILLBOOK-PARTITION';

/** The cgroup holding a partitioned node's processes, below the cgroup2 root (one per address machine-wide). */
export const partitionCgroup = (host: string) => `drillbook-partition-${host}`;

/** A TCP connection a node's process has open, as `ss` shows it. */
export interface Connection {
  local: string;
  localPort: string;
  peer: string;
  peerPort: string;
}

/**
 * The DROP rules (iptables arguments after `-A CHAIN`) that cut `host` off, each marked with a
 * comment so that healing deletes exactly them. A socket keeps the cgroup it was created in, so the
 * connections the node's processes already had open from another address are cut one by one.
 */
export function partitionRules(host: string, open: readonly Connection[]): string[][] {
  const mark = ['-m', 'comment', '--comment', partitionCgroup(host)];
  return [
    ['-d', host],
    ['-s', host],
    ['-m', 'cgroup', '--path', partitionCgroup(host)],
    ...open.map((c) => ['-s', c.local, '--sport', c.localPort, '-d', c.peer, '--dport', c.peerPort]),
  ].map((match) => ['-p', 'tcp', ...match, ...mark, '-j', 'DROP']);
}

/** Deletes every rule of the partition of `host` from the chain; gives how many. */
export async function deletePartitionRules(host: string): Promise<number> {
  const listed = await run('iptables', ['-S', PARTITION_CHAIN]).catch(() => ({ stdout: '' }));
  const ours = listed.stdout
    .split('\n')
    .filter((l) => l.startsWith('-A ') && l.includes(partitionCgroup(host)));
  for (const rule of ours) {
    // iptables -S prints each rule as it would be given, "-A CHAIN <match...>", the comment quoted.
    await run('iptables', [
      '-D',
      ...rule
        .slice(3)
        .split(' ')
        .map((w) => w.replace(/^"(.*)"$/, '$1')),
    ]);
  }
  return ours.length;
}

/** The established TCP connections of the given processes that do not leave from `host`. */
export async function connectionsOf(pids: readonly number[], host: string): Promise<Connection[]> {
  const wanted = new Set(pids);
  const { stdout } = await run('ss', ['-Htnp', 'state', 'established']);
  const split = (addr: string) => [
    addr.slice(0, addr.lastIndexOf(':')),
    addr.slice(addr.lastIndexOf(':') + 1),
  ];
  return stdout.split('\n').flatMap((line) => {
    const [, , local, peer, users] = line.trim().split(/\s+/);
    if (!local || !peer || !users) return [];
    if (![...users.matchAll(/pid=(\d+)/g)].some(([, pid]) => wanted.has(Number(pid)))) return [];
    const [localHost, localPort] = split(local);
    const [peerHost, peerPort] = split(peer);
    if (localHost === host || !localHost || !peerHost) return [];
    return [{ local: localHost, localPort: localPort!, peer: peerHost, peerPort: peerPort! }];
  });
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
