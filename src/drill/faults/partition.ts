// partition: iptables DROP of every TCP packet to and from the node's address, so its SQL,
// replication and SSH are cut alike. Rules live in a dedicated chain, so the revert is exact.
import { shq } from '../../connectors/shell-quote.js';
import { UserError } from '../../errors.js';
import { PARTITION_CHAIN } from '../../system/partition-chain.js';
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

const rules = (address: string) => [`-d ${shq(address)} -p tcp -j DROP`, `-s ${shq(address)} -p tcp -j DROP`];

export const partition: Fault = {
  kind: 'partition',
  timed: true,
  async inject(ctx) {
    const shell = firewall(ctx);
    const { host } = nodeOf(ctx.env, ctx.node);
    const which = await shell.exec('command -v iptables');
    if (which.exitCode !== 0) throw new UserError('partition needs iptables (Debian package iptables)');
    await shell.exec(`iptables -N ${PARTITION_CHAIN}`); // exists already after an earlier drill: fine
    for (const chain of ['INPUT', 'OUTPUT']) {
      await mustRun(
        shell,
        `iptables -C ${chain} -j ${PARTITION_CHAIN} 2>/dev/null || iptables -I ${chain} 1 -j ${PARTITION_CHAIN}`,
        `hooking ${PARTITION_CHAIN} into ${chain}`,
      );
    }
    for (const rule of rules(host)) {
      await mustRun(shell, `iptables -A ${PARTITION_CHAIN} ${rule}`, `iptables ${rule}`);
    }
    const at = performance.now();
    ctx.log(`partitioned ${ctx.node} (${host}): iptables drops its TCP traffic`);
    return { at };
  },
  async revert(ctx) {
    const shell = firewall(ctx);
    const { host } = nodeOf(ctx.env, ctx.node);
    let removed = 0;
    for (const rule of rules(host)) {
      while ((await shell.exec(`iptables -D ${PARTITION_CHAIN} ${rule}`)).exitCode === 0) removed++;
    }
    return removed
      ? `healed the partition of ${ctx.node} (${removed} rule(s) removed)`
      : `no partition rules for ${ctx.node}`;
  },
};
