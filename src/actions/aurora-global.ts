// aurora-global: move an Aurora Global Database's writer to another region's cluster. A switchover
// loses nothing (it waits for the secondaries to catch up); a failover is for a lost primary region
// and may lose what was not yet replicated, so `allowDataLoss` must be written in the runbook.
import { Type } from '@sinclair/typebox';
import { describeGlobalCluster, sameCluster, type GlobalClusterState } from '../connectors/rds-cluster.js';
import { waitForState, withRdsApi, type RdsApi } from '../connectors/rds.js';
import { Strict, Text } from '../schema/common.js';
import { CloudAction, cloudOutputs } from './cloud-fields.js';
import { defineAction, type ActionContext } from './types.js';

const globalCluster = Text('global database identifier');
const targetCluster = Text('the secondary DB cluster (ARN or identifier) that becomes the writer');

const schema = Type.Union(
  [
    Strict({
      action: CloudAction('switchover', 'SwitchoverGlobalCluster: planned, no data loss'),
      globalCluster,
      targetCluster,
    }),
    Strict({
      action: CloudAction('failover', 'FailoverGlobalCluster: the primary region is lost'),
      globalCluster,
      targetCluster,
      allowDataLoss: Type.Boolean({
        description:
          'required: true fails over at once, losing writes not yet replicated; false waits for them (a switchover)',
      }),
    }),
    Strict({
      action: CloudAction('wait', 'until targetCluster is the writer and the global database is available'),
      globalCluster,
      targetCluster,
    }),
  ],
  { description: 'what to do; the fields depend on action' },
);

export const auroraGlobal = defineAction({
  kind: 'aurora-global',
  summary: 'Aurora Global Database through the AWS API: switchover, failover (allowDataLoss explicit), wait',
  schema,
  outputs: Strict({
    ...cloudOutputs,
    globalCluster: Type.String(),
    status: Type.String({ description: 'the global database’s status' }),
    writer: Type.Optional(Type.String({ description: 'ARN of the writer cluster, as last seen' })),
    previousWriter: Type.Optional(Type.String({ description: 'ARN of the writer before the call' })),
    failover: Type.Optional(Type.String({ description: 'a switchover or failover still in progress' })),
  }),
  example: {
    id: 'switch-region',
    with: { action: 'switchover', globalCluster: 'orders-global', targetCluster: 'orders-eu' },
  },
  async run(ctx, input) {
    return withRdsApi(ctx, async (api) => {
      if (input.action === 'wait')
        return await waitForWriter(ctx, api, input.globalCluster, input.targetCluster);
      return await moveWriter(ctx, api, input);
    });
  },
  async dryRun(_ctx, input) {
    if (input.action === 'wait')
      return `would wait until ${input.targetCluster} is the writer of ${input.globalCluster}`;
    const how =
      input.action === 'switchover'
        ? 'switch over'
        : input.allowDataLoss
          ? 'fail over (allowing data loss)'
          : 'fail over without data loss';
    return `would ${how} global database ${input.globalCluster} to ${input.targetCluster}`;
  },
});

async function moveWriter(
  ctx: ActionContext,
  api: RdsApi,
  input: {
    action: 'switchover' | 'failover';
    globalCluster: string;
    targetCluster: string;
    allowDataLoss?: boolean;
  },
) {
  const { globalCluster, targetCluster } = input;
  const before = await describeGlobalCluster(api, globalCluster);
  const ids = { GlobalClusterIdentifier: globalCluster, TargetDbClusterIdentifier: targetCluster };
  const answer =
    input.action === 'switchover'
      ? await api.call(`SwitchoverGlobalCluster ${globalCluster}`, (abortSignal) =>
          api.client.send(new api.sdk.SwitchoverGlobalClusterCommand(ids), { abortSignal }),
        )
      : await api.call(`FailoverGlobalCluster ${globalCluster}`, (abortSignal) =>
          api.client.send(
            // The API takes one of the two: AllowDataLoss, or Switchover (wait for the secondaries).
            new api.sdk.FailoverGlobalClusterCommand(
              input.allowDataLoss ? { ...ids, AllowDataLoss: true } : { ...ids, Switchover: true },
            ),
            { abortSignal },
          ),
        );
  const kind =
    input.action === 'switchover'
      ? 'switchover'
      : input.allowDataLoss
        ? 'failover (data loss allowed)'
        : 'failover without data loss';
  ctx.log(
    `${api.target}: ${kind} of ${globalCluster} from ${before.writer ?? '(no writer)'} to ${targetCluster} started`,
  );
  return {
    action: input.action,
    globalCluster,
    status: answer.GlobalCluster?.Status ?? before.status,
    previousWriter: before.writer,
    failover: answer.GlobalCluster?.FailoverState?.Status,
    message: `${kind} of ${globalCluster} to ${targetCluster} started; wait for it with action: wait`,
  };
}

async function waitForWriter(ctx: ActionContext, api: RdsApi, globalCluster: string, targetCluster: string) {
  let state: GlobalClusterState | undefined;
  const seen = (s: GlobalClusterState) =>
    `${globalCluster}: ${s.status}, writer ${s.writer ?? '(none)'}${s.failover ? `, failover ${s.failover}` : ''}`;
  const waitedMs = await waitForState(
    `${api.target}: ${targetCluster} as the writer of ${globalCluster}`,
    async () => {
      state = await describeGlobalCluster(api, globalCluster);
      const reached =
        sameCluster(state.writer, targetCluster) && state.status === 'available' && !state.failover;
      return { reached, seen: seen(state) };
    },
    ctx,
  );
  return {
    action: 'wait',
    globalCluster,
    status: state!.status,
    writer: state!.writer,
    waitedMs,
    message: `${targetCluster} is the writer of ${globalCluster} after ${(waitedMs / 1000).toFixed(1)}s`,
  };
}
