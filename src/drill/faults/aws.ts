// aws: the fault is a call to the cloud API, as the provider's own failover test would be
// (`rds.failover-cluster`: FailoverDBCluster, the writer handed to a reader). Clients see what an
// RDS failover does to them through the cluster endpoint the probe writes to.
import { withRdsApi } from '../../connectors/rds.js';
import { UserError } from '../../errors.js';
import type { Fault } from './types.js';

export const aws: Fault = {
  kind: 'aws',
  timed: false,
  async inject(ctx) {
    const { action, cluster, targetInstance } = ctx.options ?? {};
    if (action !== 'rds.failover-cluster' || !cluster)
      throw new UserError('fault kind aws needs action: rds.failover-cluster and cluster');
    const signal = ctx.signal ?? new AbortController().signal;
    return withRdsApi({ env: ctx.env, stepId: 'fault', signal, secret: ctx.secret }, async (api) => {
      await api.call(`FailoverDBCluster ${cluster}`, (abortSignal) =>
        api.client.send(
          new api.sdk.FailoverDBClusterCommand({
            DBClusterIdentifier: cluster,
            TargetDBInstanceIdentifier: targetInstance,
          }),
          { abortSignal },
        ),
      );
      const at = performance.now();
      ctx.log(
        `${api.target}: failover of DB cluster ${cluster} to ${targetInstance ?? 'a reader RDS chooses'} started`,
      );
      return { at };
    });
  },
  revert: async () => 'nothing to undo: the new writer stays; the restore runbook fails back if wanted',
};
