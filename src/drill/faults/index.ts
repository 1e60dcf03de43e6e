// The one map of fault kinds (the drill schema lists the same names).
import { aws } from './aws.js';
import { deleteRows } from './delete-rows.js';
import { etcdMajorityLoss, etcdMemberLoss } from './etcd-loss.js';
import { freeze } from './freeze.js';
import { freezeNode } from './freeze-node.js';
import { killNode } from './kill-node.js';
import { killPostgres } from './kill-postgres.js';
import { partition } from './partition.js';
import { replicaLag } from './replica-lag.js';
import { splitBrain } from './split-brain.js';
import { stopPostgres } from './stop-postgres.js';
import type { Fault } from './types.js';

export const faults: ReadonlyMap<string, Fault> = new Map(
  [
    killPostgres,
    stopPostgres,
    freeze,
    partition,
    replicaLag,
    deleteRows,
    splitBrain,
    aws,
    killNode,
    freezeNode,
    etcdMemberLoss,
    etcdMajorityLoss,
  ].map((f) => [f.kind, f]),
);
