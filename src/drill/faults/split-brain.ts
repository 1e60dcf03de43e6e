// split-brain: the primary freezes (as `freeze`) while one client holds a session open on it, and
// another client follows whichever other node becomes primary. When the frozen primary wakes, a
// failover that did not fence it leaves two primaries: each client's writes land on its own side
// (new rows, and the one shared row both keep updating). `diverge` then finds and reconciles them.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from 'pg';
import { connectNode } from '../../connectors/postgres.js';
import { pollUntil } from '../../connectors/poll.js';
import { errorMessage } from '../../errors.js';
import { freeze } from './freeze.js';
import type { Fault, FaultContext } from './types.js';

/** Both clients write here: `old-N` / `new-N` rows and the `shared` row (key id, last write updated_at). */
export const SPLIT_BRAIN_TABLE = 'drillbook_split_brain';
const WRITE_EVERY_MS = 100;
/** How long the woken old primary keeps taking the old client's writes before the fault ends. */
const AWAKE_MS = 2000;

const write = (client: Client, side: 'old' | 'new', n: number) =>
  client.query(
    `WITH row AS (INSERT INTO ${SPLIT_BRAIN_TABLE} (id, side, n) VALUES ($1::text || '-' || $2::integer, $1::text, $2::integer))
     UPDATE ${SPLIT_BRAIN_TABLE} SET side = $1::text, n = $2::integer, updated_at = clock_timestamp() WHERE id = 'shared'`,
    [side, n],
  );

interface Writers {
  stop(): Promise<{ old: number; oldAfterPromotion: number; error?: string; new: number; newNode?: string }>;
}

const running = new WeakMap<FaultContext, Writers>();
const counted = new WeakMap<FaultContext, number>();

/** The client of the old primary: one session opened before the freeze, writing until stopped. */
function oldClient(client: Client, promotedAt: () => number | undefined) {
  let stopped = false;
  const counts: { old: number; oldAfterPromotion: number; error?: string } = { old: 0, oldAfterPromotion: 0 };
  const loop = (async () => {
    for (let n = 1; !stopped; n++) {
      try {
        await write(client, 'old', n);
        counts.old++;
        const promoted = promotedAt();
        if (promoted !== undefined && performance.now() > promoted) counts.oldAfterPromotion++;
      } catch (err) {
        counts.error = errorMessage(err);
        return; // the session broke: this client is done
      }
      await sleep(WRITE_EVERY_MS);
    }
  })();
  return {
    counts,
    async stop() {
      stopped = true;
      // A write still hanging on a node that never woke must not hang the drill.
      await Promise.race([loop, sleep(3000)]);
      await client.end().catch(() => undefined);
    },
  };
}

/** The client of the other side: writes to whichever other node is primary (none until the promotion). */
function newClient(ctx: FaultContext) {
  const nodes = Object.keys(ctx.env.postgres.nodes).filter((n) => n !== ctx.node);
  const sessions = new Map<string, Client>();
  let stopped = false;
  const state: { new: number; promotedAt?: number; newNode?: string } = { new: 0 };
  const session = async (node: string) => {
    const open = sessions.get(node);
    if (open) return open;
    const client = await connectNode(ctx.env, node, { secret: ctx.secret, connectTimeoutMs: 1000 });
    sessions.set(node, client);
    return client;
  };
  const loop = (async () => {
    for (let n = 1; !stopped; n++) {
      for (const node of nodes) {
        try {
          const client = await session(node);
          const { rows } = await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
          if (rows[0]?.r !== false) continue;
          await write(client, 'new', n);
          state.promotedAt ??= performance.now();
          state.newNode = node;
          state.new++;
          break;
        } catch {
          // Restarted (a replica re-pointed at the new primary) or not up yet: try again next time.
          void sessions
            .get(node)
            ?.end()
            .catch(() => undefined);
          sessions.delete(node);
        }
      }
      await sleep(WRITE_EVERY_MS);
    }
  })();
  return {
    state,
    async stop() {
      stopped = true;
      await loop;
      await Promise.all([...sessions.values()].map((c) => c.end().catch(() => undefined)));
    },
  };
}

/** The table, emptied and with its shared row, replayed by every replica before the fault. */
async function prepare(ctx: FaultContext): Promise<Client> {
  const client = await connectNode(ctx.env, ctx.node, { secret: ctx.secret });
  try {
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${SPLIT_BRAIN_TABLE} (id text PRIMARY KEY, side text NOT NULL, n integer NOT NULL,
         updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
       TRUNCATE ${SPLIT_BRAIN_TABLE};
       INSERT INTO ${SPLIT_BRAIN_TABLE} (id, side, n) VALUES ('shared', 'before', 0)`,
    );
    const lsn = (await client.query<{ l: string }>('SELECT pg_current_wal_lsn()::text AS l')).rows[0]!.l;
    for (const node of Object.keys(ctx.env.postgres.nodes).filter((n) => n !== ctx.node)) {
      const replayed = await pollUntil(
        async () => {
          const r = await connectNode(ctx.env, node, { secret: ctx.secret, connectTimeoutMs: 1000 });
          try {
            const { rows } = await r.query<{ ok: boolean }>(
              'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok',
              [lsn],
            );
            return rows[0]?.ok ? true : undefined;
          } finally {
            await r.end().catch(() => undefined);
          }
        },
        { timeoutMs: 10_000, intervalMs: 50, signal: ctx.signal },
      );
      if (!replayed) throw new Error(`${node} did not replay ${SPLIT_BRAIN_TABLE} within 10 s`);
    }
    return client;
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
}

export const splitBrain: Fault = {
  kind: 'split-brain',
  timed: true,
  async inject(ctx) {
    const session = await prepare(ctx);
    let injected;
    try {
      injected = await freeze.inject(ctx);
    } catch (err) {
      await session.end().catch(() => undefined);
      throw err;
    }
    const next = newClient(ctx);
    const old = oldClient(session, () => next.state.promotedAt);
    running.set(ctx, {
      async stop() {
        await Promise.all([old.stop(), next.stop()]);
        return { ...old.counts, new: next.state.new, newNode: next.state.newNode };
      },
    });
    ctx.log(
      `split brain: one client writes to ${ctx.node} (frozen), one to whichever other node is promoted`,
    );
    return injected;
  },
  splitBrainWrites: (ctx) => counted.get(ctx) ?? 0,
  async revert(ctx) {
    const woke = await freeze.revert(ctx);
    const writers = running.get(ctx);
    if (!writers) return woke;
    running.delete(ctx);
    // Awake and unfenced, the old primary takes the old client's writes: the split brain itself.
    await sleep(AWAKE_MS);
    try {
      const c = await writers.stop();
      counted.set(ctx, c.oldAfterPromotion);
      return `${woke}; split brain: ${ctx.node} acknowledged ${c.oldAfterPromotion} write(s) after ${c.newNode ?? 'another node'} was promoted (${c.old} in all${c.error ? `; its client stopped: ${c.error}` : ''}), ${c.newNode ?? 'the new primary'} ${c.new}`;
    } catch (err) {
      return `${woke}; split-brain clients: ${errorMessage(err)}`;
    }
  },
};
