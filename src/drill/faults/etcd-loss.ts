// etcd-member-loss / etcd-majority-loss: SIGKILL of DCS members. One member lost leaves the etcd
// quorum intact (Patroni must not fail over); the majority lost leaves Patroni without its DCS,
// whose behaviour (the leader demoting itself after retry_timeout) the drill measures. The member
// is found as the process listening on its client endpoint, never by name.
import { UserError } from '../../errors.js';
import { shq } from '../../connectors/shell-quote.js';
import { localExec, mustRun, nodeOf, type NodeShell } from './node-shell.js';
import type { Fault, FaultContext } from './types.js';

/** The DCS endpoints to kill: the one on the target node's address first, then the next ones. */
function victims(ctx: FaultContext, count: 'one' | 'majority'): string[] {
  const endpoints = ctx.env.ha?.dcs?.endpoints ?? [];
  if (endpoints.length === 0) {
    throw new UserError(
      `environment ${ctx.env.name} names no DCS endpoints (ha.dcs.endpoints): nothing to kill`,
    );
  }
  const host = nodeOf(ctx.env, ctx.node).host;
  const hostOf = (e: string) => e.replace(/^https?:\/\//, '').replace(/:\d+\/?$/, '');
  const own = endpoints.findIndex((e) => hostOf(e) === host);
  const ordered = own < 0 ? endpoints : [...endpoints.slice(own), ...endpoints.slice(0, own)];
  for (const e of ordered) {
    if (!/^127\./.test(hostOf(e))) {
      throw new UserError(
        `${count === 'one' ? 'etcd-member-loss' : 'etcd-majority-loss'} kills local DCS members only; ${e} is not a loopback address`,
      );
    }
  }
  return ordered.slice(0, count === 'one' ? 1 : Math.floor(endpoints.length / 2) + 1);
}

/** The PID listening on host:port, as `ss` reports it. */
async function listener(shell: NodeShell, endpoint: string): Promise<string> {
  const [, host, port] = /^(?:https?:\/\/)?([^:/]+):(\d+)/.exec(endpoint) ?? [];
  if (!host || !port) throw new UserError(`DCS endpoint "${endpoint}" is not host:port`);
  const r = await mustRun(
    shell,
    `ss -Hltnp ${shq(`src ${host} and sport = :${port}`)} | grep -o 'pid=[0-9]*' | head -n 1`,
    `finding the DCS member on ${endpoint}`,
  );
  const pid = r.stdout.trim().replace('pid=', '');
  if (!/^\d+$/.test(pid)) throw new UserError(`no process listens on DCS endpoint ${endpoint}`);
  return pid;
}

function etcdLoss(kind: string, count: 'one' | 'majority'): Fault {
  return {
    kind,
    timed: false,
    facts: ['members'],
    async inject(ctx) {
      if (process.getuid?.() !== 0)
        throw new UserError(`${kind} needs root: the DCS members may run as any user`);
      const shell: NodeShell = { where: 'local', exec: localExec, close: () => undefined };
      const endpoints = victims(ctx, count);
      const pids = await Promise.all(endpoints.map((e) => listener(shell, e)));
      await mustRun(shell, `kill -KILL ${pids.join(' ')}`, `SIGKILL of DCS members ${endpoints.join(', ')}`);
      const at = performance.now();
      ctx.log(
        `killed DCS member(s) ${endpoints.map((e, i) => `${e} (pid ${pids[i]})`).join(', ')} with SIGKILL`,
      );
      return { at, facts: { members: endpoints.join(' ') } };
    },
    // Killed members stay down: the restore restarts them (lab up in the lab).
    revert: async () => 'nothing to undo: the restore restarts the DCS members',
  };
}

export const etcdMemberLoss = etcdLoss('etcd-member-loss', 'one');
export const etcdMajorityLoss = etcdLoss('etcd-majority-loss', 'majority');
