// partition: iptables DROP of every TCP packet to and from the node's address, so its SQL,
// replication and SSH are cut alike; and, because the nodes may share this machine (the lab on
// loopback), of every TCP packet the node's own processes send, whatever their source address (see
// system/partition-chain.ts). Rules live in a dedicated chain, so the revert is exact.
import { shq } from '../../connectors/shell-quote.js';
import { UserError } from '../../errors.js';
import {
  cgroup2Root,
  connectionsOf,
  deletePartitionRules,
  enterPartitionCgroup,
  leavePartitionCgroup,
  PARTITION_CHAIN,
  partitionRules,
  processesOwning,
  withDescendants,
} from '../../system/partition-chain.js';
import { localExec, mustRun, nodeOf, type NodeShell } from './node-shell.js';
import type { Fault, FaultContext } from './types.js';

/** A whole loopback address (never a prefix match: `127.0.0.1;cmd` is not one). */
const isLoopback = (host: string) =>
  /^127(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(host) || host === '::1' || host === 'localhost';

/** iptables acts on this machine: the lab's nodes are loopback addresses here. */
function firewall(ctx: FaultContext): NodeShell {
  const { host } = nodeOf(ctx.env, ctx.node);
  if (!isLoopback(host)) {
    throw new UserError(
      `partition acts with iptables on this machine; node ${ctx.node} (${host}) is not a local address`,
    );
  }
  if (process.getuid?.() !== 0) {
    throw new UserError('partition needs root: iptables changes the firewall (run the drill as root)');
  }
  return { where: 'local', exec: localExec, close: () => undefined };
}

const append = (rule: string[]) => `iptables -A ${PARTITION_CHAIN} ${rule.map(shq).join(' ')}`;

/** The cgroup v2 root, or a clear refusal: without it the node's outgoing connections stay open. */
function cgroupRoot(): string {
  const root = cgroup2Root();
  if (!root) {
    throw new UserError(
      'partition needs cgroup v2 (mounted cgroup2): the nodes share this machine, and only a cgroup rule cuts the connections their processes open from 127.0.0.1',
    );
  }
  return root;
}

export const partition: Fault = {
  kind: 'partition',
  timed: true,
  async inject(ctx) {
    const shell = firewall(ctx);
    const { host } = nodeOf(ctx.env, ctx.node);
    const which = await shell.exec('command -v iptables');
    if (which.exitCode !== 0) throw new UserError('partition needs iptables (Debian package iptables)');
    const root = cgroupRoot();
    await shell.exec(`iptables -N ${PARTITION_CHAIN}`); // exists already after an earlier drill: fine
    for (const chain of ['INPUT', 'OUTPUT']) {
      await mustRun(
        shell,
        `iptables -C ${chain} -j ${PARTITION_CHAIN} 2>/dev/null || iptables -I ${chain} 1 -j ${PARTITION_CHAIN}`,
        `hooking ${PARTITION_CHAIN} into ${chain}`,
      );
    }
    const owned = await processesOwning(host);
    const pids = withDescendants(owned);
    const moved = enterPartitionCgroup(root, host, pids);
    const open = await connectionsOf(pids, host);
    for (const rule of partitionRules(host, open)) {
      await mustRun(shell, append(rule), `iptables ${rule.join(' ')}`);
    }
    const at = performance.now();
    ctx.log(
      `partitioned ${ctx.node} (${host}): iptables drops its TCP traffic, and what its ${moved} process(es) send from any address (pids ${owned.join(' ')} and children; ${open.length} connection(s) already open)`,
    );
    return { at };
  },
  async revert(ctx) {
    firewall(ctx);
    const { host } = nodeOf(ctx.env, ctx.node);
    const removed = await deletePartitionRules(host);
    const root = cgroup2Root();
    const released = root ? leavePartitionCgroup(root, host) : 0;
    return removed || released
      ? `healed the partition of ${ctx.node} (${removed} rule(s) removed, ${released} process(es) released)`
      : `no partition rules for ${ctx.node}`;
  },
};
