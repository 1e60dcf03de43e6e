// freeze: SIGSTOP of the postmaster and its children for a while, then SIGCONT — a hung primary
// that still holds its TCP connections (the hardest case for detection).
import { dataDirOf, mustRun, postmasterPid, withNodeShell } from './node-shell.js';
import type { Fault } from './types.js';

// The postmaster and its direct children, by parent PID (never by process name).
const signalAll = (dataDir: string, signal: 'STOP' | 'CONT') =>
  `p=$(${postmasterPid(dataDir)}) && kill -${signal} $p $(pgrep -P $p)`;

export const freeze: Fault = {
  kind: 'freeze',
  timed: true,
  inject: (ctx) =>
    withNodeShell(ctx, async (shell) => {
      await mustRun(shell, signalAll(dataDirOf(ctx.env, ctx.node), 'STOP'), `SIGSTOP of ${ctx.node}`);
      const at = performance.now();
      ctx.log(`froze ${ctx.node} (SIGSTOP of the postmaster and its children) via ${shell.where}`);
      return { at };
    }),
  revert: (ctx) =>
    withNodeShell(ctx, async (shell) => {
      const r = await shell.exec(signalAll(dataDirOf(ctx.env, ctx.node), 'CONT'));
      return r.exitCode === 0
        ? `resumed ${ctx.node} (SIGCONT)`
        : `${ctx.node} was not running: nothing to resume`;
    }),
};
