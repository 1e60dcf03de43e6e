// rds: fail over an RDS Multi-AZ DB cluster or an Aurora cluster through the AWS API, reboot an
// instance with failover, wait for the new writer, describe. Failover events (DescribeEvents) go
// into the outputs, and from there into the report's timeline.
import { Type } from '@sinclair/typebox';
import { describeCluster, type ClusterState } from '../connectors/rds-cluster.js';
import { clusterFailoverEvents } from '../connectors/rds-events.js';
import { waitForState, withRdsApi, type RdsApi } from '../connectors/rds.js';
import { OneOf, Strict, Text } from '../schema/common.js';
import { CloudAction, cloudOutputs } from './cloud-fields.js';
import { defineAction, type ActionContext } from './types.js';

/** Events a little older than the call still belong to it (clock skew between us and AWS). */
const EVENT_SKEW_MS = 60_000;
/** wait and describe look this far back for the failover they report. */
const EVENT_LOOKBACK_MS = 30 * 60_000;

const cluster = Text('DB cluster identifier');

const schema = Type.Union(
  [
    Strict({
      action: CloudAction(
        'failover-cluster',
        'FailoverDBCluster: promote a reader (the target, or one RDS picks)',
      ),
      cluster,
      targetInstance: Type.Optional(Text('the reader instance to promote (default: RDS chooses)')),
    }),
    Strict({
      action: CloudAction('reboot', 'RebootDBInstance, with failover to the standby when forceFailover'),
      targetInstance: Text('the DB instance to reboot'),
      forceFailover: Type.Optional(Type.Boolean({ default: false })),
      cluster: Type.Optional(Text('its DB cluster, whose failover events are reported')),
    }),
    Strict({
      action: CloudAction('wait', 'until the cluster’s writer is targetInstance and its status is available'),
      cluster,
      targetInstance: Text('the instance that must be the writer'),
    }),
    Strict({
      action: CloudAction('describe', 'the cluster’s status, writer, members and recent failovers'),
      cluster,
    }),
  ],
  { description: 'what to do; the fields depend on action' },
);

const FailoverEvent = Strict({
  at: Type.String({ format: 'date-time', description: 'when RDS recorded it' }),
  code: Type.String({ description: 'RDS-EVENT-0072/0073 started, 0071 completed, 0069 failed' }),
  phase: OneOf(['started', 'completed', 'failed']),
  message: Type.String(),
});

export const rds = defineAction({
  kind: 'rds',
  summary:
    'RDS and Aurora clusters through the AWS API: failover-cluster, reboot with failover, wait, describe',
  schema,
  outputs: Strict({
    ...cloudOutputs,
    cluster: Type.Optional(Type.String()),
    status: Type.Optional(
      Type.String({ description: 'the cluster’s status (available, failing-over, ...)' }),
    ),
    writer: Type.Optional(Type.String({ description: 'the writer instance, as last seen' })),
    previousWriter: Type.Optional(Type.String({ description: 'the writer before the call' })),
    members: Type.Optional(Type.Array(Strict({ instance: Type.String(), writer: Type.Boolean() }))),
    events: Type.Array(FailoverEvent, { description: 'the cluster’s failover events, oldest first' }),
  }),
  example: {
    id: 'failover',
    with: { action: 'failover-cluster', cluster: 'orders', targetInstance: 'orders-2' },
  },
  async run(ctx, input) {
    return withRdsApi(ctx, async (api) => {
      switch (input.action) {
        case 'failover-cluster':
          return await failoverCluster(ctx, api, input.cluster, input.targetInstance);
        case 'reboot':
          return await reboot(ctx, api, input.targetInstance, input.forceFailover ?? false, input.cluster);
        case 'wait':
          return await waitForWriter(ctx, api, input.cluster, input.targetInstance);
        case 'describe': {
          const state = await describeCluster(api, input.cluster);
          const events = await clusterFailoverEvents(api, input.cluster, since(EVENT_LOOKBACK_MS));
          return {
            ...common(input.action, input.cluster, state),
            events,
            message: summary(input.cluster, state),
          };
        }
      }
    });
  },
  async dryRun(ctx, input) {
    const where = `${ctx.env.cloud?.region ?? '(no region)'}`;
    switch (input.action) {
      case 'failover-cluster':
        return `would fail over DB cluster ${input.cluster} in ${where} to ${input.targetInstance ?? 'a reader RDS chooses'}`;
      case 'reboot':
        return `would reboot DB instance ${input.targetInstance} in ${where}${input.forceFailover ? ' with failover' : ''}`;
      case 'wait':
        return `would wait until ${input.targetInstance} is the writer of ${input.cluster} and it is available`;
      case 'describe':
        return `would describe DB cluster ${input.cluster} in ${where}`;
    }
  },
});

const since = (ms: number) => new Date(Date.now() - ms);

const common = (action: string, cluster: string, state: ClusterState) => ({
  action,
  cluster,
  status: state.status,
  writer: state.writer,
  members: state.members,
});

const summary = (cluster: string, state: ClusterState) =>
  `${cluster}: ${state.status}, writer ${state.writer ?? '(none)'}`;

async function failoverCluster(ctx: ActionContext, api: RdsApi, cluster: string, targetInstance?: string) {
  const before = await describeCluster(api, cluster);
  const calledAt = since(EVENT_SKEW_MS);
  const answer = await api.call(`FailoverDBCluster ${cluster}`, (abortSignal) =>
    api.client.send(
      new api.sdk.FailoverDBClusterCommand({
        DBClusterIdentifier: cluster,
        TargetDBInstanceIdentifier: targetInstance,
      }),
      { abortSignal },
    ),
  );
  ctx.log(
    `${api.target}: failover of ${cluster} from ${before.writer ?? '(no writer)'} to ${targetInstance ?? 'a reader RDS chooses'} started`,
  );
  const events = await clusterFailoverEvents(api, cluster, calledAt);
  return {
    action: 'failover-cluster',
    cluster,
    status: answer.DBCluster?.Status ?? before.status,
    previousWriter: before.writer,
    members: before.members,
    events,
    message: `failover of ${cluster} started (writer was ${before.writer ?? '(none)'}); wait for the new writer with action: wait`,
  };
}

async function reboot(
  ctx: ActionContext,
  api: RdsApi,
  instance: string,
  forceFailover: boolean,
  cluster: string | undefined,
) {
  const calledAt = since(EVENT_SKEW_MS);
  const answer = await api.call(`RebootDBInstance ${instance}`, (abortSignal) =>
    api.client.send(
      new api.sdk.RebootDBInstanceCommand({ DBInstanceIdentifier: instance, ForceFailover: forceFailover }),
      { abortSignal },
    ),
  );
  ctx.log(`${api.target}: reboot of ${instance}${forceFailover ? ' with failover' : ''} started`);
  const events = cluster ? await clusterFailoverEvents(api, cluster, calledAt) : [];
  return {
    action: 'reboot',
    cluster,
    status: answer.DBInstance?.DBInstanceStatus,
    events,
    message: `reboot of ${instance}${forceFailover ? ' with failover' : ''} started`,
  };
}

async function waitForWriter(ctx: ActionContext, api: RdsApi, cluster: string, instance: string) {
  let state: ClusterState | undefined;
  const waitedMs = await waitForState(
    `${api.target}: ${instance} as the available writer of ${cluster}`,
    async () => {
      state = await describeCluster(api, cluster);
      return {
        reached: state.writer === instance && state.status === 'available',
        seen: summary(cluster, state),
      };
    },
    ctx,
  );
  const events = await clusterFailoverEvents(api, cluster, since(EVENT_LOOKBACK_MS));
  return {
    ...common('wait', cluster, state!),
    events,
    waitedMs,
    message: `${instance} is the writer of ${cluster}, available after ${(waitedMs / 1000).toFixed(1)}s`,
  };
}
