// What the RDS API says of a DB cluster and of an Aurora global database: its status and writer.
import { StepFailure } from '../errors.js';
import type { RdsApi } from './rds.js';

export interface ClusterState {
  status: string;
  /** The writer instance; undefined while the cluster has none (mid-failover). */
  writer?: string;
  members: { instance: string; writer: boolean }[];
}

export async function describeCluster(api: RdsApi, cluster: string): Promise<ClusterState> {
  const answer = await api.call(`DescribeDBClusters ${cluster}`, (abortSignal) =>
    api.client.send(new api.sdk.DescribeDBClustersCommand({ DBClusterIdentifier: cluster }), { abortSignal }),
  );
  const found = answer.DBClusters?.[0];
  if (!found) throw new StepFailure(`${api.target}: DescribeDBClusters ${cluster} answered no cluster`);
  const members = (found.DBClusterMembers ?? []).map((m) => ({
    instance: m.DBInstanceIdentifier ?? '',
    writer: Boolean(m.IsClusterWriter),
  }));
  return { status: found.Status ?? 'unknown', writer: members.find((m) => m.writer)?.instance, members };
}

export interface GlobalClusterState {
  status: string;
  /** The ARN of the member cluster that takes writes. */
  writer?: string;
  members: { cluster: string; writer: boolean }[];
  /** A switchover or failover in progress (`pending`, `failing-over`, `cancelling`), if any. */
  failover?: string;
}

export async function describeGlobalCluster(api: RdsApi, globalCluster: string): Promise<GlobalClusterState> {
  const answer = await api.call(`DescribeGlobalClusters ${globalCluster}`, (abortSignal) =>
    api.client.send(new api.sdk.DescribeGlobalClustersCommand({ GlobalClusterIdentifier: globalCluster }), {
      abortSignal,
    }),
  );
  const found = answer.GlobalClusters?.[0];
  if (!found)
    throw new StepFailure(
      `${api.target}: DescribeGlobalClusters ${globalCluster} answered no global cluster`,
    );
  const members = (found.GlobalClusterMembers ?? []).map((m) => ({
    cluster: m.DBClusterArn ?? '',
    writer: Boolean(m.IsWriter),
  }));
  return {
    status: found.Status ?? 'unknown',
    writer: members.find((m) => m.writer)?.cluster,
    members,
    failover: found.FailoverState?.Status,
  };
}

/** Whether a member's ARN is the cluster a runbook names (by ARN or by identifier). */
export const sameCluster = (arn: string | undefined, named: string): boolean =>
  arn !== undefined && (arn === named || arn.endsWith(`:cluster:${named}`));
