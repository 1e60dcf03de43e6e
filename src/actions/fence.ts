// fence: make the old primary unable to take writes, then prove it — the split-brain guard.
// stop: pg_ctl stop -m immediate over SSH; router: disable the HAProxy slots that lead to it;
// iptables: DROP its address:port in a dedicated chain over SSH (root or sudo needed).
// With a router, stop and iptables disable its slots too: new clients are then refused at once
// instead of waiting on the fenced node (a DROP holds each for HAProxy's timeout connect).
import { Type } from '@sinclair/typebox';
import { HaproxyRuntime, inventoryRouter } from '../connectors/haproxy.js';
import { connectPostgres, nodeEndpoint } from '../connectors/postgres.js';
import { parseDuration } from '../duration.js';
import { StepFailure, UserError, errorMessage } from '../errors.js';
import { resolveNode } from '../schema/inventory.js';
import { Duration, Strict, Target, OneOf } from '../schema/common.js';
import { stopPostmasterScript } from '../connectors/postmaster.js';
import { nodeHost, runOnNode, runRemote } from '../connectors/node-host.js';
import { shq } from '../connectors/shell-quote.js';
import { defineAction, type ActionContext } from './types.js';

/** iptables rules go into this chain (jumped to from INPUT), so removing them is exact. */
export const FENCE_CHAIN = 'DRILLBOOK-FENCE';
const DEFAULT_CHECK_TIMEOUT_MS = 1500;

const schema = Strict({
  target: Target('node', 'the node to fence'),
  method: Type.Optional(OneOf(['stop', 'router', 'iptables'], { default: 'stop' })),
  mode: Type.Optional(
    OneOf(['immediate', 'fast'], {
      default: 'immediate',
      description:
        'method stop: immediate (failover: at once) or fast (switchover: a clean shutdown that first sends every WAL record to the replicas)',
    }),
  ),
  router: Type.Optional(
    Target(
      'router',
      'router whose slots leading to the node are disabled (method router: the fence itself; stop, iptables: as well, so new clients fail at once)',
    ),
  ),
  server: Type.Optional(
    Type.String({ description: 'router server slot for method: router (default: every slot at the node)' }),
  ),
  allowUnreachable: Type.Optional(
    Type.Boolean({ description: 'count an unreachable node as fenced (it is already down), and report it' }),
  ),
  checkTimeout: Type.Optional(
    Duration('connection timeout of the check that the node takes no writes (default 1.5s)'),
  ),
});

type FenceInput = (typeof schema)['static'];

export const fence = defineAction({
  kind: 'fence',
  summary: 'stop, disable in the router, or firewall the old primary, then verify it takes no writes',
  idempotent: true,
  schema,
  outputs: Strict({
    node: Type.String(),
    method: OneOf(['stop', 'router', 'iptables']),
    verified: Type.Literal(true, { description: 'nothing answers on its PostgreSQL port / slots' }),
    action: Type.String({ description: 'what was done' }),
    undo: Type.String({ description: 'how to undo it' }),
    address: Type.Optional(Type.String()),
    slots: Type.Optional(Type.Array(Type.String())),
  }),
  example: { id: 'fence-old', with: { target: 'primary', method: 'stop', allowUnreachable: true } },
  async run(ctx, input) {
    const node = resolveNode(ctx.env, input.target);
    const method = input.method ?? 'stop';
    const outputs =
      method === 'router'
        ? await fenceRouter(ctx, input, node)
        : await fenceOverSshAndRouter(ctx, input, node, method);
    ctx.log(`${node} fenced (${method}): ${String(outputs.action)}; undo: ${String(outputs.undo)}`);
    return { node, method, verified: true as const, ...outputs };
  },
  async dryRun(ctx, input) {
    const node = resolveNode(ctx.env, input.target);
    const method = input.method ?? 'stop';
    const how = {
      stop: `stop it with pg_ctl stop -m ${input.mode ?? 'immediate'} over SSH`,
      router: `disable its slots in router ${input.router ?? '(none given)'}`,
      iptables: `DROP its PostgreSQL port in iptables chain ${FENCE_CHAIN} over SSH`,
    }[method];
    const alsoRouter =
      method !== 'router' && input.router ? `, disable its slots in router ${input.router}` : '';
    return `would fence ${node}: ${how}${alsoRouter}, then check that it takes no writes`;
  },
});

/** stop or iptables, preceded by the router's slots when a router is given (the fastest part first). */
async function fenceOverSshAndRouter(
  ctx: ActionContext,
  input: FenceInput,
  node: string,
  method: 'stop' | 'iptables',
): Promise<{ action: string; undo: string; address: string; slots?: string[] }> {
  const routed = input.router ? await fenceRouter(ctx, input, node) : undefined;
  const fenced = await fenceOverSsh(ctx, input, node, method);
  if (!routed) return fenced;
  return {
    ...fenced,
    action: `${fenced.action}; ${routed.action}`,
    undo: `${fenced.undo}; ${routed.undo}`,
    slots: routed.slots,
  };
}

async function fenceOverSsh(
  ctx: ActionContext,
  input: FenceInput,
  node: string,
  method: 'stop' | 'iptables',
): Promise<{ action: string; undo: string; address: string }> {
  const host = nodeHost(ctx.env, node, `fence method ${method}`);
  const { host: addr, port } = host.node;
  let action: string;
  let undo: string;
  try {
    if (method === 'stop') {
      // A dead postmaster (killed, maybe a zombie) is already stopped: never a wait on a corpse.
      const mode = input.mode ?? 'immediate';
      const r = await runOnNode(ctx, host, 'stop', stopPostmasterScript(host.dataDir, mode));
      action = r.stdout.trim() === 'stopped' ? `stopped (${mode})` : 'already stopped';
      undo = `start ${node} only as a replica of the new primary: a rejoin step`;
    } else {
      const rule = `-d ${shq(addr)} -p tcp --dport ${port} -j DROP`;
      const r = await runRemote(ctx, host.ssh, `iptables fence of ${node}`, iptablesScript(rule), {
        okExitCodes: [77],
      });
      if (r.exitCode === 77) {
        throw new UserError(
          `fence ${node} with iptables needs root: SSH user ${r.stdout.trim()} on ${host.ssh} is not root and has no password-less sudo; use an SSH host entry for root, or method stop or router`,
        );
      }
      action = `DROP ${addr}:${port} in chain ${FENCE_CHAIN}`;
      undo = `iptables -D ${FENCE_CHAIN} ${rule} (on ${host.ssh})`;
    }
  } catch (err) {
    if (!input.allowUnreachable || !(err instanceof StepFailure) || !err.retryable) throw err;
    // SSH does not answer: the host is gone or cut off. Counted as fenced only when asked, and only
    // once the check below confirms that nothing answers on its PostgreSQL port either.
    action = `unreachable over SSH (${errorMessage(err)}); counted as fenced (allowUnreachable)`;
    undo = 'nothing was changed on the node';
  }
  await assertTakesNoConnections(ctx, input, node);
  return { action, undo, address: `${addr}:${port}` };
}

/** Runs as root (or through sudo -n); exit 77 with the login name when neither is possible. */
function iptablesScript(rule: string): string {
  return [
    'if [ "$(id -u)" = 0 ]; then S=; elif sudo -n true 2>/dev/null; then S="sudo -n"; else id -un; exit 77; fi',
    `$S iptables -N ${FENCE_CHAIN} 2>/dev/null || true`,
    `$S iptables -C INPUT -j ${FENCE_CHAIN} 2>/dev/null || $S iptables -I INPUT -j ${FENCE_CHAIN}`,
    `$S iptables -C ${FENCE_CHAIN} ${rule} 2>/dev/null || $S iptables -A ${FENCE_CHAIN} ${rule}`,
  ].join('\n');
}

/** The proof: a client cannot even connect (refused or timed out); any session means not fenced. */
async function assertTakesNoConnections(ctx: ActionContext, input: FenceInput, node: string): Promise<void> {
  const endpoint = nodeEndpoint(ctx.env, node);
  const connectTimeoutMs = parseDuration(input.checkTimeout ?? '') ?? DEFAULT_CHECK_TIMEOUT_MS;
  let client;
  try {
    client = await connectPostgres(endpoint, { signal: ctx.signal, secret: ctx.secret, connectTimeoutMs });
  } catch {
    return;
  }
  await client.end().catch(() => undefined);
  throw new StepFailure(
    `${node} (${endpoint.host}:${endpoint.port}) still accepts connections after fencing: NOT fenced`,
  );
}

async function fenceRouter(
  ctx: ActionContext,
  input: FenceInput,
  node: string,
): Promise<{ action: string; undo: string; slots: string[] }> {
  if (!input.router) throw new UserError(`step ${ctx.stepId}: fence method router needs router`);
  const router = inventoryRouter(ctx.env, input.router);
  const { host, port } = nodeEndpoint(ctx.env, node);
  const api = new HaproxyRuntime(router.socket, { signal: ctx.signal });
  const servers = await api.showServersState(router.backend);
  const slots = input.server
    ? servers.filter((s) => s.server === input.server)
    : servers.filter((s) => s.addr === host && s.port === port);
  if (input.server && slots.length === 0) {
    throw new UserError(`router ${input.router} has no server ${router.backend}/${input.server}`);
  }
  for (const s of slots) {
    if (s.admin !== 'maint') await api.disableServer(s.backend, s.server);
    // Maintenance only stops new sessions; open ones could keep writing to the old primary.
    await api.shutdownSessions(s.backend, s.server);
  }
  const after = await api.showServersState(router.backend);
  const open = after.filter((s) => s.addr === host && s.port === port && s.admin !== 'maint');
  const named = after.filter((s) => slots.some((x) => x.server === s.server) && s.admin !== 'maint');
  if (open.length || named.length) {
    throw new StepFailure(
      `router ${input.router} still routes to ${node} (${host}:${port}) through ${[...open, ...named].map((s) => `${s.backend}/${s.server}`).join(', ')}: NOT fenced`,
    );
  }
  const names = slots.map((s) => `${s.backend}/${s.server}`);
  return {
    action: names.length
      ? `disabled ${names.join(', ')} in router ${input.router}`
      : `no slot of router ${input.router} leads to ${node}`,
    undo: names.length ? `route with action enable for ${names.join(', ')}` : 'nothing',
    slots: names,
  };
}
