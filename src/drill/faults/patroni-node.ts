// The processes of a Patroni node: its live postmaster (from postmaster.pid) and Patroni, found as
// the process listening on the node's REST API address (Patroni detaches the postmaster it starts,
// so that PostgreSQL outlives a Patroni restart: the postmaster's parent is init, not Patroni).
// Never found by process name. Shared by kill-node and freeze-node.
import { POSTMASTER_SH } from '../../connectors/postmaster.js';
import { shq } from '../../connectors/shell-quote.js';
import { UserError } from '../../errors.js';
import { dataDirOf, mustRun, type NodeShell } from './node-shell.js';
import type { FaultContext } from './types.js';

export interface PatroniNodePids {
  patroni: string;
  postmaster: string;
}

/** host and port of the node's Patroni REST API, from the inventory's ha.rest.urls. */
function restAddress(ctx: FaultContext): { host: string; port: string } {
  const url = ctx.env.ha?.manager === 'patroni' ? ctx.env.ha.rest.urls[ctx.node] : undefined;
  if (!url) throw new UserError(`${ctx.node} has no Patroni REST URL in the inventory (ha.rest.urls)`);
  const { hostname, port } = new URL(url);
  return { host: hostname, port: port || '8008' };
}

/** Shell snippet printing "PATRONI POSTMASTER". */
const pidsScript = (dataDir: string, rest: { host: string; port: string }) =>
  `${POSTMASTER_SH}
p=$(pg_live ${shq(dataDir)}) || { echo "no live postmaster runs ${dataDir}" >&2; exit 3; }
pp=$(ss -Hltnp ${shq(`src ${rest.host} and sport = :${rest.port}`)} | grep -o 'pid=[0-9]*' | head -n 1)
[ -n "$pp" ] || { echo "no process listens on Patroni's REST address ${rest.host}:${rest.port}" >&2; exit 4; }
echo "\${pp#pid=} $p"`;

export async function patroniNodePids(ctx: FaultContext, shell: NodeShell): Promise<PatroniNodePids> {
  const out = (
    await mustRun(
      shell,
      pidsScript(dataDirOf(ctx.env, ctx.node), restAddress(ctx)),
      `finding ${ctx.node}'s Patroni and postmaster`,
    )
  ).stdout.trim();
  const [patroni, postmaster] = out.split(/\s+/);
  if (!/^\d+$/.test(patroni ?? '') || !/^\d+$/.test(postmaster ?? '')) {
    throw new Error(`${ctx.node}: expected "PATRONI POSTMASTER" PIDs, got "${out}"`);
  }
  return { patroni: patroni!, postmaster: postmaster! };
}
