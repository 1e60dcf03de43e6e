// freeze-node: a Patroni node hangs — SIGSTOP of Patroni, the postmaster and its children, for
// longer than ttl, then SIGCONT. While frozen it renews nothing, so another member takes the leader
// key; when it wakes, its PostgreSQL must not acknowledge a write before Patroni demotes it.
import { mustRun, withNodeShell } from './node-shell.js';
import { patroniNodePids, type PatroniNodePids } from './patroni-node.js';
import type { Fault } from './types.js';

// Patroni first on stop (so it cannot react to its postmaster stopping), last on resume.
const signal = (p: PatroniNodePids, sig: 'STOP' | 'CONT') => {
  const postgres = `${p.postmaster} $(pgrep -P ${p.postmaster})`;
  return sig === 'STOP'
    ? `kill -STOP ${p.patroni} && kill -STOP ${postgres}`
    : `kill -CONT ${postgres}; kill -CONT ${p.patroni}`;
};

export const freezeNode: Fault = {
  kind: 'freeze-node',
  timed: true,
  inject: (ctx) =>
    withNodeShell(ctx, async (shell) => {
      const pids = await patroniNodePids(ctx, shell);
      await mustRun(shell, signal(pids, 'STOP'), `SIGSTOP of ${ctx.node}'s Patroni and PostgreSQL`);
      const at = performance.now();
      ctx.log(
        `froze ${ctx.node}: SIGSTOP of Patroni (pid ${pids.patroni}), the postmaster (pid ${pids.postmaster}) and its children via ${shell.where}`,
      );
      return { at };
    }),
  revert: (ctx) =>
    withNodeShell(ctx, async (shell) => {
      // A stopped process still has its PIDs and parent: found the same way as at the freeze.
      const pids = await patroniNodePids(ctx, shell).catch(() => undefined);
      if (!pids) return `${ctx.node} runs no Patroni-managed postmaster: nothing to resume`;
      await shell.exec(signal(pids, 'CONT'));
      return `resumed ${ctx.node}'s Patroni and PostgreSQL (SIGCONT)`;
    }),
};
