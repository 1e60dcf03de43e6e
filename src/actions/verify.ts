// verify: is a target up, down, primary or replica — checked from several vantage points at once,
// with a quorum, so one partitioned observer cannot trigger (or block) a failover on its own.
import { Type } from '@sinclair/typebox';
import { nodeEndpoint } from '../connectors/postgres.js';
import { parseDuration } from '../duration.js';
import { StepFailure, UserError } from '../errors.js';
import { resolveNode } from '../schema/inventory.js';
import {
  Duration,
  OrExpr,
  Port,
  SqlParams,
  SqlText,
  Strict,
  Target,
  TARGET_ANNOTATION,
  Text,
  OneOf,
} from '../schema/common.js';
import { checkBackupAge } from '../backup/age.js';
import { checkArchiving } from '../backup/archiving.js';
import { StorageSpec } from '../backup/storage/spec.js';
import {
  backupTool,
  readRepository,
  repositoryOf,
  toolField,
  verifyRepository,
  type BackupTool,
} from '../backup/pgbackrest.js';
import { probe, type ProbeResult, type ProbeSpec } from './probes.js';
import { checkRouterConfig } from './router-config.js';
import { RouterConfigCheck, RouterConfigCheckOutputs } from './verify-router-config.js';
import { checkPatroni, DEFAULT_MAX_LAG_BYTES, PatroniCheck, PatroniCheckOutputs } from './verify-patroni.js';
import { Ms } from './contract.js';
import { defineAction, type ActionContext } from './types.js';

/** Short by default: detection time is part of the RTO, and "down" is a timeout from a quorum. */
const DEFAULT_CONNECT_TIMEOUT_MS = 2000;

/** Where a probe runs from and how many of those places must agree. */
const vantageFields = {
  from: Type.Optional(
    Type.Array(Type.String({ pattern: '^(local|ssh:[A-Za-z0-9_.-]+)$', [TARGET_ANNOTATION]: 'vantage' }), {
      minItems: 1,
      description: 'vantage points: local, or ssh:<host> to run the check on that host (default: local)',
    }),
  ),
  quorum: Type.Optional(
    Type.Integer({ minimum: 1, description: 'vantage points that must agree (default: all)' }),
  ),
  connectTimeout: Type.Optional(Duration('per-check connection timeout (default 2s)')),
};
const upOrDown = Type.Optional(OneOf(['up', 'down'], { default: 'up' }));
const Check = <N extends string>(name: N, description: string) => Type.Literal(name, { description });

/** One branch per check, told apart by `check`: each lists the fields that check needs. */
const schema = Type.Union(
  [
    Strict({
      check: Check('postgres', 'a PostgreSQL node answers (and is primary or replica)'),
      target: Target('node', 'the PostgreSQL node'),
      expect: Type.Optional(OneOf(['up', 'down', 'primary', 'replica'], { default: 'up' })),
      ...vantageFields,
    }),
    Strict({
      check: Check('sql', 'a query gives the expected value'),
      target: Target('node', 'the PostgreSQL node the query runs on'),
      query: SqlText('SQL for a sql check; its first column of the first row is compared'),
      params: SqlParams,
      equals: Type.Optional(Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
      expect: upOrDown,
      ...vantageFields,
    }),
    Strict({
      check: Check('tcp', 'a TCP port accepts connections'),
      target: Type.Optional(Target('node', 'a node whose address and port are checked')),
      host: Type.Optional(Text('host for a tcp check (default: the target’s)')),
      port: Type.Optional(OrExpr(Port)),
      expect: upOrDown,
      ...vantageFields,
    }),
    Strict({
      check: Check('http', 'a URL answers with the expected status'),
      url: Text('URL for an http check (loopback only in the lab)'),
      status: Type.Optional(
        Type.Integer({ minimum: 100, maximum: 599, description: 'expected HTTP status (default 200)' }),
      ),
      expect: upOrDown,
      ...vantageFields,
    }),
    Strict({
      check: Check('backup-age', 'the newest verified backup is recent enough'),
      maxAge: Duration('the newest verified backup must be younger than this'),
      tool: toolField,
      catalog: Type.Optional(Text('path of a catalog.json')),
      storage: Type.Optional(StorageSpec),
    }),
    Strict({
      check: Check('backup', 'the backups are whole: pgbackrest verify finds no problem'),
      tool: toolField,
      label: Type.Optional(Text('one backup set (default: all of them and the WAL archive)')),
    }),
    Strict({
      check: Check('archiving', 'WAL archiving keeps up (pg_stat_archiver)'),
      target: Type.Optional(Target('node', 'the node whose archiver is read (default: the primary)')),
    }),
    RouterConfigCheck,
    PatroniCheck,
  ],
  { description: 'what to check; the fields depend on check' },
);

type VerifyInput = (typeof schema)['static'];
/**
 * The checks answered by probing a target from vantage points (backup-age reads a backup catalog
 * instead, archiving reads pg_stat_archiver, router-config a router's settings).
 */
type ProbeInput = Exclude<
  VerifyInput,
  { check: 'backup-age' | 'archiving' | 'router-config' | 'patroni' | 'backup' }
>;
const NOT_PROBES = new Set(['backup-age', 'archiving', 'router-config', 'patroni', 'backup']);
const isProbe = (input: VerifyInput): input is ProbeInput => !NOT_PROBES.has(input.check);

export interface VantageAnswer {
  from: string;
  ok: boolean;
  /** primary | replica | up | down | error | the sql value | the HTTP status */
  observed: string;
  error?: string;
  ms: number;
}

export const verify = defineAction({
  kind: 'verify',
  summary:
    'check a target (postgres, tcp, sql, http) from one or more vantage points with a quorum, the age of the newest backup, WAL archiving, whether a router fails fast, or a Patroni cluster',
  idempotent: true,
  sqlFields: ['query'],
  schema,
  outputs: Type.Union([
    Strict({
      answers: Type.Array(
        Strict({
          from: Type.String(),
          ok: Type.Boolean(),
          observed: Type.String({
            description: 'primary, replica, up, down, error, the sql value or HTTP status',
          }),
          error: Type.Optional(Type.String()),
          ms: Ms(),
        }),
      ),
      agreed: Type.Integer({ description: 'vantage points that saw what was expected' }),
      quorum: Type.Integer(),
      observed: Type.String({ description: 'the most common answer' }),
    }),
    Strict({
      label: Type.String({ description: 'backup-age: the newest verified backup' }),
      ageMs: Ms(),
      finishedAt: Type.String(),
      method: Type.String(),
    }),
    Strict({
      stanza: Type.String({ description: 'backup: the pgBackRest stanza verified' }),
      checkedBy: Type.String(),
      summary: Type.String(),
    }),
    Strict({
      node: Type.String({ description: 'archiving: the node whose archiver was read' }),
      archivedCount: Type.Integer(),
      lastArchivedWal: Type.String(),
      lastArchivedTime: Type.String(),
      failedCount: Type.Integer(),
      lastFailedWal: Type.String(),
      lastFailedTime: Type.String(),
    }),
    RouterConfigCheckOutputs,
    PatroniCheckOutputs,
  ]),
  example: {
    id: 'primary-down',
    with: { check: 'postgres', target: 'primary', expect: 'down', from: ['local', 'ssh:pg2'], quorum: 2 },
  },
  async run(ctx, input) {
    if (input.check === 'archiving') return checkArchiving(ctx, input);
    if (input.check === 'router-config') return checkRouterConfig(ctx, input);
    if (input.check === 'patroni') return checkPatroni(ctx, input);
    if (input.check === 'backup') return checkBackupsWhole(ctx, input);
    if (!isProbe(input)) return checkBackupAge(ctx, input);
    const spec = probeSpec(ctx, input);
    const from = input.from ?? ['local'];
    const quorum = input.quorum ?? from.length;
    if (quorum > from.length) {
      throw new UserError(
        `step ${ctx.stepId}: quorum ${quorum} is more than the ${from.length} vantage points`,
      );
    }
    const timeoutMs = parseDuration(input.connectTimeout ?? '') ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const answers = await Promise.all(
      from.map(async (f): Promise<VantageAnswer> => {
        const started = performance.now();
        const result = await probe(ctx, f, spec, timeoutMs);
        const ms = Math.round(performance.now() - started);
        const observed = result.state === 'answer' ? result.value! : result.state;
        return {
          from: f,
          ok: agrees(input, result),
          observed,
          ...(result.error && { error: result.error }),
          ms,
        };
      }),
    );
    const agreed = answers.filter((a) => a.ok).length;
    const what = describeTarget(ctx, input, spec);
    const expected = expectation(input);
    const summary = answers
      .map((a) => `${a.from}: ${a.observed}${a.error ? ` (${a.error})` : ''}`)
      .join('; ');
    ctx.log(`${what}: ${summary}`);
    if (agreed < quorum) {
      // Retryable: the target's state may still be changing (a primary going down, a replica catching up).
      throw new StepFailure(
        `${what}: expected ${expected}, ${agreed} of ${answers.length} vantage points agree (quorum ${quorum}): ${summary}`,
        { retryable: true },
      );
    }
    return { answers, agreed, quorum, observed: mostCommon(answers.map((a) => a.observed)) };
  },
  async dryRun(ctx, input) {
    if (input.check === 'router-config') {
      return `would read the settings of router ${input.router} and warn about those that make new clients hang`;
    }
    if (input.check === 'archiving') {
      return `would check that ${resolveNode(ctx.env, input.target ?? 'primary')} archives its WAL without failing`;
    }
    if (input.check === 'patroni') {
      return `would check the Patroni cluster: ${input.members ?? 'all'} members running, one leader, lag under ${input.maxLag ?? DEFAULT_MAX_LAG_BYTES} bytes, no pending restart`;
    }
    if (input.check === 'backup') {
      return `would run pgbackrest verify on stanza ${pgbackrestRepository(ctx, input.tool).stanza}`;
    }
    if (!isProbe(input)) return `would check that the newest verified backup is younger than ${input.maxAge}`;
    const spec = probeSpec(ctx, input);
    return `would check that ${describeTarget(ctx, input, spec)} is ${expectation(input)} from ${(input.from ?? ['local']).join(', ')} (quorum ${input.quorum ?? (input.from ?? ['local']).length})`;
  },
});

/** The environment's pgBackRest repository: `check: backup` verifies only pgBackRest's. */
function pgbackrestRepository(ctx: ActionContext, tool: BackupTool | undefined) {
  if (backupTool(ctx.env, tool) !== 'pgbackrest') {
    throw new UserError(
      `step ${ctx.stepId}: check backup runs pgbackrest verify and needs the pgbackrest tool (native backups are verified when made and by restore-test)`,
    );
  }
  return repositoryOf(ctx.env, ctx.stepId);
}

async function checkBackupsWhole(ctx: ActionContext, input: { tool?: BackupTool; label?: string }) {
  const repo = pgbackrestRepository(ctx, input.tool);
  // Read first: an unknown stanza is named with the ones the repository has.
  await readRepository(repo, ctx.signal);
  const result = await verifyRepository(repo, input.label, ctx.signal);
  ctx.log(`pgbackrest verify of stanza ${repo.stanza}: ${result.summary}`);
  return { stanza: repo.stanza, ...result };
}

function probeSpec(ctx: ActionContext, input: ProbeInput): ProbeSpec {
  const need = <T>(value: T | undefined, field: string): T => {
    if (value === undefined) throw new UserError(`step ${ctx.stepId}: a ${input.check} check needs ${field}`);
    return value;
  };
  switch (input.check) {
    case 'postgres':
      return { check: 'postgres', endpoint: nodeEndpoint(ctx.env, input.target) };
    case 'sql':
      return {
        check: 'sql',
        endpoint: nodeEndpoint(ctx.env, input.target),
        query: input.query,
        values: input.params ?? [],
      };
    case 'tcp': {
      const node = input.target ? nodeEndpoint(ctx.env, input.target) : undefined;
      const port = input.port ?? node?.port;
      if (typeof port === 'string')
        throw new UserError(`step ${ctx.stepId}: port did not render to a number: ${port}`);
      return {
        check: 'tcp',
        host: need(input.host ?? node?.host, 'host or target'),
        port: need(port, 'port or target'),
      };
    }
    case 'http':
      return { check: 'http', url: input.url };
  }
}

/** Whether one vantage point's answer is what the step expects. */
function agrees(input: ProbeInput, result: ProbeResult): boolean {
  const expect = input.expect ?? 'up';
  if (expect === 'down') return result.state === 'down';
  if (result.state !== 'answer') return false;
  switch (input.check) {
    case 'postgres':
      return expect === 'up' || result.value === expect;
    case 'tcp':
      return true;
    case 'sql':
      return input.equals === undefined || sameValue(result.value ?? '', input.equals);
    case 'http':
      return result.value === String(input.status ?? 200);
  }
}

/** Compares a value as text (psql prints booleans as t/f, node-postgres as true/false). */
export function sameValue(observed: string, expected: string | number | boolean): boolean {
  if (typeof expected === 'boolean') {
    const truth = { t: true, true: true, f: false, false: false }[observed];
    return truth === expected;
  }
  if (typeof expected === 'number') return observed.trim() !== '' && Number(observed) === expected;
  return observed === expected;
}

function expectation(input: ProbeInput): string {
  if ((input.expect ?? 'up') === 'down') return 'down';
  if (input.check === 'sql' && input.equals !== undefined) return `= ${JSON.stringify(input.equals)}`;
  if (input.check === 'http') return `HTTP ${input.status ?? 200}`;
  return input.expect ?? 'up';
}

function describeTarget(ctx: ActionContext, input: ProbeInput, spec: ProbeSpec): string {
  if (spec.check === 'tcp') return `${spec.host}:${spec.port}`;
  if (spec.check === 'http') return spec.url;
  const node = input.check === 'postgres' || input.check === 'sql' ? input.target : 'primary';
  return `${resolveNode(ctx.env, node)} (${spec.endpoint.host}:${spec.endpoint.port})`;
}

function mostCommon(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]![0];
}
