// replica-lag: pause WAL replay on a replica for a while, so it falls behind (and the failover must
// pick another one, or refuse).
import { withNode } from '../../connectors/postgres.js';
import { StepFailure } from '../../errors.js';
import type { Fault, FaultContext } from './types.js';

const onReplica = (ctx: FaultContext, sql: string) =>
  withNode(
    ctx.env,
    ctx.node,
    { signal: ctx.signal, secret: ctx.secret, connectTimeoutMs: 3000 },
    async (client) => {
      const { rows } = await client.query<{ recovery: boolean }>('SELECT pg_is_in_recovery() AS recovery');
      if (!rows[0]?.recovery) throw new StepFailure(`replica-lag needs a replica; ${ctx.node} is a primary`);
      await client.query(sql);
    },
  );

export const replicaLag: Fault = {
  kind: 'replica-lag',
  timed: true,
  async inject(ctx) {
    await onReplica(ctx, 'SELECT pg_wal_replay_pause()');
    const at = performance.now();
    ctx.log(`paused WAL replay on ${ctx.node}`);
    return { at };
  },
  async revert(ctx) {
    await onReplica(ctx, 'SELECT pg_wal_replay_resume()');
    return `resumed WAL replay on ${ctx.node}`;
  },
};
