// kill-postgres: SIGKILL of the postmaster — the primary dies without a shutdown checkpoint.
import { dataDirOf, mustRun, postmasterPid, withNodeShell } from './node-shell.js';
import type { Fault } from './types.js';

export const killPostgres: Fault = {
  kind: 'kill-postgres',
  timed: false,
  inject: (ctx) =>
    withNodeShell(ctx, async (shell) => {
      const pid = (
        await mustRun(
          shell,
          postmasterPid(dataDirOf(ctx.env, ctx.node)),
          `finding ${ctx.node}'s live postmaster`,
        )
      ).stdout.trim();
      if (!/^\d+$/.test(pid)) throw new Error(`postmaster.pid of ${ctx.node} holds no PID: "${pid}"`);
      await mustRun(shell, `kill -KILL ${pid}`, `SIGKILL of ${ctx.node}'s postmaster (pid ${pid})`);
      const at = performance.now();
      ctx.log(`killed ${ctx.node}'s postmaster (pid ${pid}) with SIGKILL via ${shell.where}`);
      return { at };
    }),
  // A killed server stays down; bringing it back is the restore runbook's job (rejoin).
  revert: async () => 'nothing to undo: the restore runbook rejoins the killed node',
};
