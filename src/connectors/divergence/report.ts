// The reconciliation report, in JSON (for tools) and Markdown (for people): written before anything
// is applied, and once more with what was applied.
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { privateDir } from '../../system/run-paths.js';
import { lwwWinner, type Winner } from './apply.js';
import type { RowVersion, TableDiff } from './compare.js';

export interface ReconciliationReport {
  generatedAt: string;
  environment: string;
  from: string;
  to: string;
  policy: 'lww' | 'report';
  updatedAt?: string;
  apply: boolean;
  tables: {
    table: string;
    key: string;
    onlyOld: ({ key: string } & ReportVersion)[];
    onlyNew: ({ key: string } & ReportVersion)[];
    changed: { key: string; old: ReportVersion; new: ReportVersion; winner?: Winner }[];
  }[];
  /** Present once the winners were written into the new primary. */
  applied?: { at: string; rows: number };
}

type ReportVersion = Omit<RowVersion, 'json'>;

const shown = ({ row, updatedAt }: RowVersion): ReportVersion => ({
  row,
  ...(updatedAt !== undefined && { updatedAt }),
});

export function reportTable(
  diff: TableDiff,
  policy: 'lww' | 'report',
): ReconciliationReport['tables'][number] {
  return {
    table: diff.table,
    key: diff.key,
    onlyOld: diff.onlyOld.map((r) => ({ key: r.key, ...shown(r) })),
    onlyNew: diff.onlyNew.map((r) => ({ key: r.key, ...shown(r) })),
    changed: diff.changed.map((c) => ({
      key: c.key,
      old: shown(c.old),
      new: shown(c.new),
      ...(policy === 'lww' && { winner: lwwWinner(c.old, c.new) }),
    })),
  };
}

const cell = (v: unknown) => JSON.stringify(v).replace(/\|/g, '\\|');

function* markdown(r: ReconciliationReport): Generator<string> {
  yield `# Split-brain reconciliation: ${r.from} (old primary) → ${r.to} (new primary)\n\n`;
  yield `- environment: ${r.environment}\n- generated: ${r.generatedAt}\n- policy: ${r.policy}${r.updatedAt ? ` (by ${r.updatedAt})` : ''}\n`;
  yield r.applied
    ? `- applied: ${r.applied.rows} row(s) written into ${r.to} at ${r.applied.at}\n`
    : `- applied: ${r.apply ? 'not yet (the report comes first)' : 'no (report only)'}\n`;
  for (const t of r.tables) {
    yield `\n## ${t.table} (key ${t.key})\n\n`;
    yield `${t.onlyOld.length} only on ${r.from}, ${t.onlyNew.length} only on ${r.to}, ${t.changed.length} changed on both\n`;
    const list = (title: string, rows: { key: string; row: unknown }[]) =>
      rows.length
        ? `\n### ${title}\n\n| key | row |\n| --- | --- |\n${rows.map((x) => `| ${x.key} | ${cell(x.row)} |\n`).join('')}`
        : '';
    yield list(`Only on ${r.from} (old primary)`, t.onlyOld);
    yield list(`Only on ${r.to} (new primary)`, t.onlyNew);
    if (t.changed.length) {
      yield `\n### Changed on both sides\n\n| key | ${r.from} (old) | ${r.to} (new) | winner |\n| --- | --- | --- | --- |\n`;
      for (const c of t.changed)
        yield `| ${c.key} | ${cell(c.old.row)} | ${cell(c.new.row)} | ${c.winner ? (c.winner === 'old' ? r.from : r.to) : '-'} |\n`;
    }
  }
}

/** Writes reconciliation.json and reconciliation.md into `dir` (each renamed into place whole). */
export function writeReconciliation(dir: string, r: ReconciliationReport): { json: string; md: string } {
  privateDir(dir);
  const files = { json: join(dir, 'reconciliation.json'), md: join(dir, 'reconciliation.md') };
  const put = (path: string, text: string) => {
    writeFileSync(`${path}.tmp`, text, { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
  };
  put(files.json, `${JSON.stringify(r, null, 2)}\n`);
  put(files.md, [...markdown(r)].join(''));
  return files;
}
