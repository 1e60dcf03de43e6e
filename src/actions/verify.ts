// verify: is a target up, down, primary or replica — checked from several vantage points at once,
// with a quorum, so one partitioned observer cannot trigger (or block) a failover on its own.
import { Type } from '@sinclair/typebox';
import { nodeEndpoint } from '../connectors/postgres.js';
import { parseDuration } from '../duration.js';
import { StepFailure, UserError } from '../errors.js';
import { resolveNode } from '../schema/inventory.js';
import { Duration, OrExpr, Port, Strict, Target, TARGET_ANNOTATION, Text, OneOf } from '../schema/common.js';
import { checkBackupAge } from '../backup/age.js';
import { checkArchiving } from '../backup/archiving.js';
import { StorageSpec } from '../backup/storage/spec.js';
import { probe, type ProbeResult, type ProbeSpec } from './probes.js';
import { defineAction, type ActionContext } from './types.js';

/** Short by default: detection time is part of the RTO, and "down" is a timeout from a quorum. */
const DEFAULT_CONNECT_TIMEOUT_MS = 2000;

const schema = Strict({
  check: OneOf(['postgres', 'tcp', 'sql', 'http', 'backup-age', 'archiving']),
  target: Type.Optional(
    Target(
      'node',
      'PostgreSQL node (postgres, sql checks; archiving defaults to the primary; tcp defaults to its address)',
    ),
  ),
  host: Type.Optional(Text('host for a tcp check')),
  port: Type.Optional(OrExpr(Port)),
  url: Type.Optional(Text('URL for an http check (loopback only in the lab)')),
  status: Type.Optional(
    Type.Integer({ minimum: 100, maximum: 599, description: 'expected HTTP status (default 200)' }),
  ),
  query: Type.Optional(Text('SQL for a sql check; its first column of the first row is compared')),
  equals: Type.Optional(Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
  expect: Type.Optional(OneOf(['up', 'down', 'primary', 'replica'], { default: 'up' })),
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
  maxAge: Type.Optional(Duration('backup-age: the newest verified backup must be younger than this')),
  catalog: Type.Optional(Text('backup-age: path of a catalog.json')),
  storage: Type.Optional(StorageSpec),
});

type VerifyInput = (typeof schema)['static'];
/**
 * The checks answered by probing a target from vantage points (backup-age reads a backup catalog
 * instead, archiving reads pg_stat_archiver).
 */
type ProbeInput = VerifyInput & { check: Exclude<VerifyInput['check'], 'backup-age' | 'archiving'> };
const isProbe = (input: VerifyInput): input is ProbeInput =>
  input.check !== 'backup-age' && input.check !== 'archiving';

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
    'check a target (postgres, tcp, sql, http) from one or more vantage points with a quorum, the age of the newest backup or WAL archiving',
  idempotent: true,
  schema,
  async run(ctx, input) {
    if (input.check === 'archiving') return checkArchiving(ctx, input);
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
    if (input.check === 'archiving') {
      return `would check that ${resolveNode(ctx.env, input.target ?? 'primary')} archives its WAL without failing`;
    }
    if (!isProbe(input)) return `would check that the newest verified backup is younger than ${input.maxAge}`;
    const spec = probeSpec(ctx, input);
    return `would check that ${describeTarget(ctx, input, spec)} is ${expectation(input)} from ${(input.from ?? ['local']).join(', ')} (quorum ${input.quorum ?? (input.from ?? ['local']).length})`;
  },
});

function probeSpec(ctx: ActionContext, input: ProbeInput): ProbeSpec {
  const need = <T>(value: T | undefined, field: string): T => {
    if (value === undefined) throw new UserError(`step ${ctx.stepId}: a ${input.check} check needs ${field}`);
    return value;
  };
  const expect = input.expect ?? 'up';
  if ((expect === 'primary' || expect === 'replica') && input.check !== 'postgres') {
    throw new UserError(`step ${ctx.stepId}: expect: ${expect} needs check: postgres`);
  }
  switch (input.check) {
    case 'postgres':
      return { check: 'postgres', endpoint: nodeEndpoint(ctx.env, need(input.target, 'target')) };
    case 'sql':
      return {
        check: 'sql',
        endpoint: nodeEndpoint(ctx.env, need(input.target, 'target')),
        query: need(input.query, 'query'),
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
      return { check: 'http', url: need(input.url, 'url') };
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
  switch (spec.check) {
    case 'postgres':
    case 'sql':
      return `${resolveNode(ctx.env, input.target!)} (${spec.endpoint.host}:${spec.endpoint.port})`;
    case 'tcp':
      return `${spec.host}:${spec.port}`;
    case 'http':
      return spec.url;
  }
}

function mostCommon(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]![0];
}
