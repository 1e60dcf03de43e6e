// rejoin: the old primary (or a replica of it) becomes a replica of the new primary: stop it,
// pg_rewind it from the new primary, point it there (standby.signal, primary_conninfo, slot),
// start it, and wait until the new primary streams to it.
import { Type } from '@sinclair/typebox';
import { pollUntil } from '../connectors/poll.js';
import { withNode, type PgConnectOptions } from '../connectors/postgres.js';
import { formatDuration, parseDuration } from '../duration.js';
import { StepFailure, UserError } from '../errors.js';
import { resolveNode } from '../schema/inventory.js';
import { Duration, OneOf, Strict, Target } from '../schema/common.js';
import { nodeHost, pgCtlStartScript, runOnNode, type NodeHost } from '../connectors/node-host.js';
import { shq } from '../connectors/shell-quote.js';
import { CURRENT_TIMELINE_SQL } from './lsn.js';
import { POSTMASTER_SH } from '../connectors/postmaster.js';
import {
  confValue,
  conninfoValue,
  passfileOf,
  primaryConninfo,
  slotName,
  passfileHolds,
  writePassfile,
  WRITE_PASSFILE,
} from './rejoin-conninfo.js';
import { defineAction, type ActionContext } from './types.js';
import { Ms } from './contract.js';

const DEFAULT_WAIT_STREAMING_MS = 60_000;

const schema = Strict({
  target: Target('node', 'the old primary (or a replica) to turn into a replica'),
  primary: Target('node', 'the current primary to follow (with cascade: true, a replica may be followed)'),
  cascade: Type.Optional(
    Type.Boolean({
      default: false,
      description:
        'the node to follow may be a replica (a cascading replica); without it a replica there is an error',
    }),
  ),
  rewind: Type.Optional(
    Type.Boolean({
      default: true,
      description: 'pg_rewind from the primary first (a no-op when not diverged)',
    }),
  ),
  slot: Type.Optional(
    Type.Boolean({
      default: true,
      description: 'stream through a physical replication slot named after the node (created on the primary)',
    }),
  ),
  onRewindFailure: Type.Optional(
    OneOf(['fail', 'reclone'], {
      default: 'fail',
      description:
        'when pg_rewind cannot run (e.g. the WAL it needs is gone): fail, or clone the node afresh with pg_basebackup',
    }),
  ),
  waitStreaming: Type.Optional(Duration('how long to wait until it streams (default 60s)')),
});

type RejoinInput = (typeof schema)['static'];

export const rejoin = defineAction({
  kind: 'rejoin',
  summary: 'rewind the old primary with pg_rewind and start it as a replica of the new primary',
  schema,
  outputs: Strict({
    node: Type.String(),
    primary: Type.String(),
    rewound: Type.Boolean(),
    recloned: Type.Boolean(),
    alreadyStreaming: Type.Boolean(),
    streamingAfterMs: Ms(),
  }),
  example: { id: 'rejoin-old', with: { target: 'pg1', primary: '${{ steps.promote.outputs.node }}' } },
  async run(ctx, input) {
    const { node, primary } = names(ctx, input);
    const host = nodeHost(ctx.env, node, 'rejoin');
    const pg = pgOptions(ctx);
    const cascade = input.cascade ?? false;
    if (await streamsFrom(ctx, node, primary, cascade)) {
      ctx.log(`${node} already streams from ${primary}; nothing to do`);
      return { node, primary, rewound: false, recloned: false, alreadyStreaming: true, streamingAfterMs: 0 };
    }
    if (input.slot ?? true) {
      // Reserved now, so the primary keeps every WAL segment the node will ask for once it starts.
      await withNode(ctx.env, primary, pg, (c) =>
        c.query(
          'SELECT pg_create_physical_replication_slot($1, true) WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = $1)',
          [slotName(node)],
        ),
      );
    }
    const retargetedAfterMs = await retarget(ctx, host, primary, input);
    if (retargetedAfterMs !== undefined) {
      ctx.log(
        `${node}: a running replica, now streaming from ${primary} (primary_conninfo reloaded, no restart)`,
      );
      return {
        node,
        primary,
        rewound: false,
        recloned: false,
        alreadyStreaming: false,
        streamingAfterMs: retargetedAfterMs,
      };
    }
    await withNode(ctx.env, primary, pg, async (c) => {
      // pg_rewind (PostgreSQL 15) takes the source's timeline from its control file, which a
      // promotion updates only at its first checkpoint. Without one, a just-promoted primary looks
      // like it is still on the old timeline: "no rewind required", and the node, left ahead of the
      // switch point, never follows the new timeline.
      if (input.rewind ?? true) await c.query('CHECKPOINT');
    });
    const r = await runOnNode(ctx, host, 'rejoin', rejoinScript(ctx, host, primary, input), {
      stdin: await rejoinStdin(ctx, host, primary, input),
    }).catch((err: unknown) => {
      if (!(err instanceof StepFailure) || !/pg_rewind: error/.test(err.message)) throw err;
      throw new StepFailure(
        `${err.message}. pg_rewind needs ${node}'s WAL back to the last checkpoint before the divergence: keep more (wal_keep_size, restore_command), or set onRewindFailure: reclone`,
      );
    });
    const recloned = /^recloned$/m.test(r.stdout);
    const rewound = (input.rewind ?? true) && !recloned && !/no rewind required/.test(r.stdout);
    const how = recloned ? 'cloned afresh from' : rewound ? 'rewound from' : 'no rewind needed against';
    ctx.log(`${node}: ${how} ${primary}, started as its replica`);
    const started = performance.now();
    const waitMs = parseDuration(input.waitStreaming ?? '') ?? DEFAULT_WAIT_STREAMING_MS;
    const streaming = await pollUntil(
      async () => ((await streamsFrom(ctx, node, primary, cascade)) ? true : undefined),
      { timeoutMs: waitMs, intervalMs: 20, signal: ctx.signal },
    );
    if (!streaming) {
      throw new StepFailure(
        `${node} started but ${primary} shows no streaming replication to it after ${formatDuration(waitMs)}; see ${node}'s server log`,
      );
    }
    const streamingAfterMs = Math.round(performance.now() - started);
    return { node, primary, rewound, recloned, alreadyStreaming: false, streamingAfterMs };
  },
  async dryRun(ctx, input) {
    const { node, primary } = names(ctx, input);
    return `would stop ${node}, ${input.rewind === false ? '' : 'pg_rewind it from ' + primary + ', '}start it as a replica of ${primary} and wait until it streams`;
  },
  async alreadyDone(ctx, input) {
    const { node, primary } = names(ctx, input);
    return (await streamsFrom(ctx, node, primary, input.cascade ?? false))
      ? { node, primary, rewound: false, recloned: false, alreadyStreaming: true, streamingAfterMs: 0 }
      : undefined;
  },
});

function names(ctx: ActionContext, input: RejoinInput) {
  const node = resolveNode(ctx.env, input.target);
  const primary = resolveNode(ctx.env, input.primary);
  if (node === primary) throw new UserError(`step ${ctx.stepId}: rejoin target and primary are both ${node}`);
  return { node, primary };
}

const pgOptions = (ctx: ActionContext): PgConnectOptions => ({ signal: ctx.signal, secret: ctx.secret });

/**
 * The primary's view of the node (application_name = the node's name) and its current timeline; a
 * primary that is not one is a failure.
 */
async function primaryView(
  ctx: ActionContext,
  node: string,
  primary: string,
  cascade: boolean,
): Promise<{ state: string | undefined; timeline: number | null }> {
  return withNode(ctx.env, primary, pgOptions(ctx), async (c) => {
    const { rows } = await c.query<{ recovery: boolean; state: string | null; timeline: number | null }>(
      `SELECT pg_is_in_recovery() AS recovery,
              CASE WHEN NOT pg_is_in_recovery() THEN ${CURRENT_TIMELINE_SQL} END AS timeline,
              (SELECT state FROM pg_stat_replication WHERE application_name = $1 ORDER BY state = 'streaming' DESC LIMIT 1) AS state`,
      [node],
    );
    const row = rows[0]!;
    if (row.recovery && !cascade)
      throw new StepFailure(`${primary} is not a primary (it is in recovery): nothing to rejoin to`);
    return { state: row.state ?? undefined, timeline: row.timeline };
  });
}

/**
 * Both ends agree that the node streams from the primary, on the primary's current timeline. A
 * replica that cascaded from a node just promoted first streams the old timeline to its end, then
 * its WAL receiver waits (up to wal_retrieve_retry_interval) before it asks for the new one. A
 * replica followed in a cascade switches no timeline: there the link streaming is enough.
 */
async function streamsFrom(
  ctx: ActionContext,
  node: string,
  primary: string,
  cascade: boolean,
): Promise<boolean> {
  const { state, timeline } = await primaryView(ctx, node, primary, cascade);
  if (state !== 'streaming') return false;
  const { host, port } = ctx.env.postgres.nodes[primary]!;
  return withNode(ctx.env, node, pgOptions(ctx), async (c) => {
    const { rows } = await c.query<{ ok: boolean }>(
      `SELECT count(*) > 0 AS ok FROM pg_stat_wal_receiver
        WHERE status = 'streaming' AND sender_host = $1 AND sender_port = $2
          AND ($3::int IS NULL OR receive_start_tli = $3)`,
      [host, port, timeline],
    );
    return rows[0]!.ok;
  }).catch(() => false);
}

/**
 * Secrets come on stdin, never on a command line: first the password pg_rewind connects with, then
 * the passfile line, then the settings lines.
 */
async function rejoinStdin(
  ctx: ActionContext,
  host: NodeHost,
  primary: string,
  input: RejoinInput,
): Promise<string> {
  const pg = ctx.env.postgres;
  const password = pg.password ? await ctx.secret(pg.password) : '';
  const { conninfo, passfileLine } = await primaryConninfo(ctx, host, primary);
  const lines = [`primary_conninfo = ${confValue(conninfo)}`];
  if (input.slot ?? true) lines.push(`primary_slot_name = ${confValue(slotName(host.name))}`);
  return `${password}\n${passfileLine}\n${lines.join('\n')}\n`;
}

/**
 * A replica not ahead of the new timeline follows it after a reload; the walreceiver reconnects.
 * One at the end of an old timeline asks for the new one after wal_retrieve_retry_interval (5 s
 * by default), hence the margin.
 */
const RETARGET_WAIT_MS = 10_000;

/**
 * The fast way for a running replica: point primary_conninfo at the new primary and reload (no
 * restart, no rewind). Resolves with the time until it streams, or undefined when the node is not
 * a running replica or did not follow (then the full stop, rewind and restart path runs).
 */
async function retarget(
  ctx: ActionContext,
  host: NodeHost,
  primary: string,
  input: RejoinInput,
): Promise<number | undefined> {
  const node = host.name;
  const { conninfo, passfileLine } = await primaryConninfo(ctx, host, primary);
  const started = performance.now();
  const reloaded = await withNode(ctx.env, node, { ...pgOptions(ctx), connectTimeoutMs: 2000 }, async (c) => {
    const { rows } = await c.query<{ recovery: boolean }>('SELECT pg_is_in_recovery() AS recovery');
    if (!rows[0]?.recovery) return false;
    if (!(await passfileHolds(c, host, passfileLine))) await writePassfile(ctx, host, passfileLine);
    // ALTER SYSTEM takes no parameters: the values are quoted literals (format %L).
    await c
      .query(`SELECT format('ALTER SYSTEM SET primary_conninfo = %L', $1::text) AS sql`, [conninfo])
      .then((r) => c.query(r.rows[0].sql as string));
    if (input.slot ?? true) {
      await c
        .query(`SELECT format('ALTER SYSTEM SET primary_slot_name = %L', $1::text) AS sql`, [slotName(node)])
        .then((r) => c.query(r.rows[0].sql as string));
    }
    await c.query('SELECT pg_reload_conf()');
    return true;
  }).catch(() => false);
  if (!reloaded) return undefined;
  const streaming = await pollUntil(
    async () => ((await streamsFrom(ctx, node, primary, input.cascade ?? false)) ? true : undefined),
    { timeoutMs: RETARGET_WAIT_MS, intervalMs: 20, signal: ctx.signal },
  );
  return streaming ? Math.round(performance.now() - started) : undefined;
}

function rejoinScript(ctx: ActionContext, host: NodeHost, primary: string, input: RejoinInput): string {
  const pg = ctx.env.postgres;
  const p = pg.nodes[primary]!;
  const source = `host=${conninfoValue(p.host)} port=${p.port} user=${conninfoValue(pg.user)} dbname=${conninfoValue(pg.database)} connect_timeout=10`;
  const replication = `host=${conninfoValue(p.host)} port=${p.port} user=${conninfoValue(pg.replicationUser ?? pg.user)} connect_timeout=10`;
  const rewindFailed =
    input.onRewindFailure === 'reclone'
      ? [
          // The old data directory stays until the copy is complete.
          'echo "pg_rewind failed; cloning from the primary with pg_basebackup" >&2',
          'rm -rf "$D.drillbook-old"; mv "$D" "$D.drillbook-old"; mkdir -m 700 "$D"',
          `env -u PGPASSWORD PGPASSFILE="$P" ${host.tool('pg_basebackup')} -D "$D" -d ${shq(replication)} -X stream -c fast --no-sync`,
          'rm -rf "$D.drillbook-old"; echo recloned',
        ]
      : ['exit 1'];
  return [
    'set -e',
    'IFS= read -r PGPASSWORD || true; export PGPASSWORD',
    'IFS= read -r PASSLINE || true',
    `P=${shq(passfileOf(host))}`,
    WRITE_PASSFILE,
    'SETTINGS=$(cat)',
    `D=${shq(host.dataDir)}`,
    // A clean stop first: pg_rewind refuses a running target. A postmaster a drill killed counts
    // as stopped at once, its stale postmaster.pid removed (else pg_rewind's single-user crash
    // recovery would refuse the lock file of a zombie).
    POSTMASTER_SH,
    'pg_stop "$D" fast 60 >/dev/null',
    // pg_rewind and pg_basebackup copy the source's configuration files; the node keeps its own.
    'KEEP=$(mktemp -d)',
    'cp -p "$D"/*.conf "$KEEP"/',
    `trap 'cp -p "$KEEP"/*.conf "$D"/; rm -rf "$KEEP"' EXIT`,
    ...(input.rewind === false
      ? []
      : [
          `if out=$(${host.tool('pg_rewind')} --target-pgdata="$D" --source-server=${shq(source)} 2>&1); then echo "$out"; else`,
          'echo "$out" >&2',
          ...rewindFailed,
          'fi',
        ]),
    'cp -p "$KEEP"/*.conf "$D"/; trap - EXIT; rm -rf "$KEEP"',
    // The server must not inherit pg_rewind's password: libpq prefers PGPASSWORD to the passfile.
    'unset PGPASSWORD',
    'touch "$D/standby.signal"',
    'A="$D/postgresql.auto.conf"',
    `{ grep -Ev '^[[:space:]]*(primary_conninfo|primary_slot_name)[[:space:]]*=' "$A" 2>/dev/null || true; printf '%s\\n' "$SETTINGS"; } > "$A.drillbook"`,
    'chmod 600 "$A.drillbook"; mv "$A.drillbook" "$A"',
    pgCtlStartScript(host),
  ].join('\n');
}
