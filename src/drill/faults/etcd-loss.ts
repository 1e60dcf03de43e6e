// etcd-member-loss / etcd-majority-loss: DCS members lost. One member lost leaves the etcd
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

const localShell = (): NodeShell => ({ where: 'local', exec: localExec, close: () => undefined });

async function membersOf(ctx: FaultContext, kind: string, count: 'one' | 'majority') {
  if (process.getuid?.() !== 0)
    throw new UserError(`${kind} needs root: the DCS members may run as any user`);
  const shell = localShell();
  const endpoints = victims(ctx, count);
  const pids = await Promise.all(endpoints.map((e) => listener(shell, e)));
  return { shell, endpoints, pids, named: endpoints.map((e, i) => `${e} (pid ${pids[i]})`).join(', ') };
}

/** One member killed: it stays down until the restore restarts it (lab up in the lab). */
export const etcdMemberLoss: Fault = {
  kind: 'etcd-member-loss',
  timed: false,
  facts: ['members'],
  async inject(ctx) {
    const m = await membersOf(ctx, 'etcd-member-loss', 'one');
    await mustRun(m.shell, `kill -KILL ${m.pids.join(' ')}`, `SIGKILL of DCS member ${m.named}`);
    const at = performance.now();
    ctx.log(`killed DCS member ${m.named} with SIGKILL`);
    return { at, facts: { members: m.endpoints.join(' ') } };
  },
  revert: async () => 'nothing to undo: the restore restarts the DCS member',
};

/**
 * The majority stopped (SIGSTOP) for the fault's duration, then resumed: from Patroni's side the DCS
 * is gone (requests time out), and the members come back by themselves, so the drill measures how
 * long clients wait for Patroni to lead again.
 */
export const etcdMajorityLoss: Fault = {
  kind: 'etcd-majority-loss',
  delayedHarm: true,
  timed: true,
  facts: ['members'],
  async inject(ctx) {
    const m = await membersOf(ctx, 'etcd-majority-loss', 'majority');
    await mustRun(m.shell, `kill -STOP ${m.pids.join(' ')}`, `SIGSTOP of DCS members ${m.named}`);
    const at = performance.now();
    ctx.log(`stopped the DCS majority: ${m.named} (SIGSTOP)`);
    return { at, facts: { members: m.endpoints.join(' ') } };
  },
  async revert(ctx) {
    const m = await membersOf(ctx, 'etcd-majority-loss', 'majority').catch(() => undefined);
    if (!m) return 'no DCS member to resume';
    await m.shell.exec(`kill -CONT ${m.pids.join(' ')}`);
    return `resumed the DCS majority: ${m.named} (SIGCONT)`;
  },
};
