// The environment's Patroni REST API as steps reach it (env.ha), with the password resolved.
import { StepFailure, UserError } from '../errors.js';
import type { PatroniApi, PatroniCluster } from '../connectors/patroni.js';
import { resolveNode } from '../schema/inventory.js';
import type { ActionContext } from './types.js';

export async function patroniApi(ctx: ActionContext): Promise<PatroniApi> {
  const ha = ctx.env.ha;
  if (ha?.manager !== 'patroni') {
    throw new UserError(
      `step ${ctx.stepId}: environment ${ctx.env.name} has no ha block with manager: patroni (the inventory's ha.rest names Patroni's REST API)`,
    );
  }
  const { username, password, ca } = ha.rest;
  return {
    urls: ha.rest.urls,
    ...(username && password && { auth: { username, password: await ctx.secret(password) } }),
    ...(ca && { ca: await ctx.secret(ca) }),
    signal: ctx.signal,
  };
}

/**
 * A node named in a step, as a Patroni member: `primary` is the current leader (the inventory's
 * steady-state primary may no longer lead), other names must be members. Patroni's member names are
 * the inventory's node names.
 */
export function memberName(ctx: ActionContext, cluster: PatroniCluster, name: string, field: string): string {
  const resolved = name === 'primary' ? (leaderName(cluster) ?? resolveNode(ctx.env, name)) : name;
  if (!cluster.members.some((m) => m.name === resolved)) {
    throw new StepFailure(
      `step ${ctx.stepId}: ${field} ${resolved} is not a member of the Patroni cluster (members: ${cluster.members.map((m) => m.name).join(', ')})`,
    );
  }
  return resolved;
}

export const leaderName = (cluster: PatroniCluster): string | undefined =>
  cluster.members.find((m) => m.role === 'leader' || m.role === 'standby_leader')?.name;
