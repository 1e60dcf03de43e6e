// diverge: after a split brain, compare tables on the old and the new primary and (last write wins,
// staging only, --apply) write the winners into the new primary. Checks first, then the comparison,
// then the report, and only then, when asked, the writes.
import type { Client } from 'pg';
import { UserError } from '../../errors.js';
import type { EnvContext } from '../../schema/inventory.js';
import { resolveNode } from '../../schema/inventory.js';
import { connectNode, pgFailure } from '../postgres.js';
import { applyLww, lwwWrites } from './apply.js';
import { compareTable } from './compare.js';
import { reportTable, writeReconciliation, type ReconciliationReport } from './report.js';
import { tableShape, type TableShape } from './table.js';

export type DivergePolicy = 'lww' | 'report';

export interface DivergeOptions {
  env: EnvContext;
  /** The old primary (the one that kept accepting writes) and the new, promoted one. */
  from: string;
  to: string;
  tables: string[];
  key: string;
  updatedAt?: string;
  policy: DivergePolicy;
  apply: boolean;
  /** Where reconciliation.json and reconciliation.md go. */
  outDir: string;
  signal?: AbortSignal;
  secret(ref: string): Promise<string>;
  log?(message: string): void;
}

export interface DivergeResult {
  report: ReconciliationReport;
  files: { json: string; md: string };
  /** Rows LWW writes (or wrote, with apply) into the new primary. */
  winners: number;
}

/** Bad input, refused before any connection: one clear line each. */
export function checkDivergeOptions(
  o: Pick<DivergeOptions, 'env' | 'from' | 'to' | 'tables' | 'policy' | 'updatedAt' | 'apply'>,
) {
  const from = resolveNode(o.env, o.from);
  const to = resolveNode(o.env, o.to);
  for (const node of [from, to])
    if (!o.env.postgres.nodes[node])
      throw new UserError(`no PostgreSQL node "${node}" in environment "${o.env.name}"`);
  if (from === to) throw new UserError(`--from and --to are the same node "${from}"`);
  if (!o.tables.length || o.tables.some((t) => !t.trim()))
    throw new UserError('--table needs at least one table name');
  if (o.policy === 'lww' && !o.updatedAt)
    throw new UserError('--policy lww needs --updated-at COL (the last-write timestamp)');
  if (o.apply && o.policy !== 'lww')
    throw new UserError('--apply needs --policy lww (--policy report only reports)');
  if (o.apply && o.env.label !== 'staging')
    throw new UserError(
      `--apply refused: environment "${o.env.name}" is labelled ${o.env.label}; diverge writes only on staging`,
    );
  return { from, to };
}

async function open(o: DivergeOptions, node: string): Promise<Client> {
  const client = await connectNode(o.env, node, {
    signal: o.signal,
    secret: o.secret,
    applicationName: 'drillbook diverge',
  });
  // Both sides render rows and timestamps alike, whatever the servers' defaults.
  await client.query("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; SET extra_float_digits = 1");
  return client;
}

/** One consistent snapshot per side for the whole comparison (and the old primary is never written). */
async function inSnapshots<T>(sides: Client[], fn: () => Promise<T>): Promise<T> {
  for (const c of sides) await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    return await fn();
  } finally {
    for (const c of sides) await c.query('COMMIT').catch(() => undefined);
  }
}

export async function diverge(o: DivergeOptions): Promise<DivergeResult> {
  const { from, to } = checkDivergeOptions(o);
  const clients: Client[] = [];
  try {
    const oldClient = await open(o, from);
    clients.push(oldClient);
    const newClient = await open(o, to);
    clients.push(newClient);
    const sides = { old: { name: from, client: oldClient }, new: { name: to, client: newClient } };
    const compared = await inSnapshots([oldClient, newClient], async () => {
      // Every table is checked before any is read.
      const shapes: TableShape[] = [];
      for (const table of o.tables) shapes.push(await tableShape(sides, table.trim(), o.key, o.updatedAt));
      const out = [];
      for (const shape of shapes) {
        out.push({ shape, diff: await compareTable(oldClient, newClient, shape) });
        o.log?.(`compared ${shape.name}`);
      }
      return out;
    });
    const report: ReconciliationReport = {
      generatedAt: new Date().toISOString(),
      environment: o.env.name,
      from,
      to,
      policy: o.policy,
      ...(o.updatedAt && { updatedAt: o.updatedAt }),
      apply: o.apply,
      tables: compared.map((c) => reportTable(c.diff, o.policy)),
    };
    const files = writeReconciliation(o.outDir, report);
    const winners = o.policy === 'lww' ? compared.reduce((n, c) => n + lwwWrites(c.diff).length, 0) : 0;
    if (!o.apply) return { report, files, winners };
    const rows = await applyLww(newClient, compared);
    const applied = { ...report, applied: { at: new Date().toISOString(), rows } };
    return { report: applied, files: writeReconciliation(o.outDir, applied), winners };
  } catch (err) {
    throw pgFailure(err, 'diverge');
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }
}
