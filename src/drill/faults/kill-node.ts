// kill-node: a Patroni node crashes — SIGKILL of Patroni and of the postmaster it runs, together, so
// nothing renews the leader key and nothing restarts PostgreSQL: Patroni's failover must take over
// once the key expires (ttl).
import { mustRun, withNodeShell } from './node-shell.js';
import { patroniNodePids } from './patroni-node.js';
import type { Fault } from './types.js';

export const killNode: Fault = {
  kind: 'kill-node',
  timed: false,
  facts: ['patroniPid', 'postmasterPid'],
  inject: (ctx) =>
    withNodeShell(ctx, async (shell) => {
      const pids = await patroniNodePids(ctx, shell);
      await mustRun(
        shell,
        `kill -KILL ${pids.patroni} ${pids.postmaster}`,
        `SIGKILL of ${ctx.node}'s Patroni (pid ${pids.patroni}) and postmaster (pid ${pids.postmaster})`,
      );
      const at = performance.now();
      ctx.log(
        `killed ${ctx.node}'s Patroni (pid ${pids.patroni}) and postmaster (pid ${pids.postmaster}) with SIGKILL via ${shell.where}`,
      );
      return { at, facts: { patroniPid: Number(pids.patroni), postmasterPid: Number(pids.postmaster) } };
    }),
  // The node stays down: the restore restarts its Patroni (lab up in the lab), which rejoins it.
  revert: async () => "nothing to undo: the restore restarts the node's Patroni",
};
