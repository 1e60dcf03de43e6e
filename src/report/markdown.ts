// report.md: for people and tickets — the outcome first, then the evidence.
import { patroniLines } from '../schema/drill-outcome.js';
import { backupTables } from './backup-tables.js';
import { CLOUD_EVENT_COLUMNS, cloudEventRows } from './cloud-events.js';
import { chainTable, clientsTable } from './drill-tables.js';
import { joined, mapped, whole, type Chunks, type Part } from './chunks.js';
import type { Report, ReportBackups, ReportDrill, ReportStep } from './schema.js';
import { dur, headline, mark, metWord, ofLimit, rows, rtoLabel, stepOutcome, verdictWord } from './text.js';

/** A table cell: pipes and line breaks would break the table. */
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const row = (r: string[]) => `| ${r.map(cell).join(' | ')} |`;
/** A table, line by line: the steps' table of a long run is megabytes. */
function* table(head: string[], body: Iterable<string[]>): Generator<string> {
  yield `${row(head)}\n${row(head.map(() => '---'))}`;
  for (const r of body) yield `\n${row(r)}`;
}
const code = (text: string) => `\`${text.replace(/`/g, "'")}\``;

export const renderMarkdown = (r: Report): string => whole(markdownChunks(r));

/** report.md in pieces, as written (see chunks.ts). */
export function markdownChunks(r: Report): Chunks {
  const out: Part[] = [`# ${headline(r)}`, ''];
  const operators = [...new Set(r.run.operators)];
  out.push(
    table(
      ['', ''],
      [
        ['Run', code(r.run.id)],
        [
          'Runbook',
          `${r.runbook.name} (${code(r.runbook.path)}, sha256 ${code(r.runbook.sha256.slice(0, 12))})`,
        ],
        ['Environment', `${r.environment.name} (${r.environment.label})`],
        ['Operator', operators.join(', ') + (r.run.resumes ? ` — resumed ${r.run.resumes}×` : '')],
        ...(r.run.startedBy ? [['Started by', r.run.startedBy]] : []),
        ['Started', r.run.createdAt],
        ['Finished', r.run.finishedAt ?? 'did not finish'],
        ['Status', r.run.status + (r.run.failedStep ? ` at ${code(r.run.failedStep)}: ${r.run.error}` : '')],
        ['Duration', `${ofLimit(r.rto.actualMs, r.rto.objectiveMs)} ${metWord(r.rto.met)}`.trim()],
        ['Approval waits', `${dur(r.approvalWaitMs)} (counted apart)`],
      ],
    ),
    '',
  );
  if (r.drill) out.push(...drillSection(r.drill));
  if (r.backups) out.push(...backupSection(r.backups));
  if (r.cloudEvents)
    out.push(
      '## Cloud failover events',
      '',
      table(CLOUD_EVENT_COLUMNS, cloudEventRows(r.cloudEvents, dur)),
      '',
    );
  out.push('## Steps', '');
  out.push(
    table(
      ['', 'step', 'kind', 'phase', 'outcome', 'duration', 'budget', 'approval wait', 'attempts'],
      mapped(r.steps, (s) => [
        mark(s.status),
        s.name ? `${s.id} — ${s.name}` : s.id,
        s.kind,
        s.phase,
        stepOutcome(s),
        dur(s.durationMs),
        dur(s.budgetMs),
        s.waitMs ? dur(s.waitMs) : '',
        String(s.attempts),
      ]),
    ),
    '',
  );
  if (r.steps.some(detailed)) out.push('### Step details', '', stepDetails(r), '');
  if (r.rollback)
    out.push(
      '## Rollback',
      '',
      `After ${code(r.rollback.failedStep)} failed (${r.rollback.error}): ${
        r.steps
          .filter((s) => s.phase === 'rollback')
          .map((s) => `${s.id} ${s.status}`)
          .join(', ') || 'no rollback steps'
      }.`,
      '',
    );
  if (r.budgetMisses.length || r.rto.exceededAtMs !== undefined) {
    out.push('## Budget misses', '');
    for (const m of r.budgetMisses) out.push(`- ${code(m.stepId)}: ${ofLimit(m.elapsedMs, m.budgetMs)}`);
    if (r.rto.exceededAtMs !== undefined)
      out.push(`- the RTO of ${dur(r.rto.objectiveMs)} ran out ${dur(r.rto.exceededAtMs)} into the run`);
    out.push('');
  }
  if (r.approvals.length) {
    out.push('## Approvals', '');
    out.push(
      table(
        ['step', 'asked', 'answer', 'by', 'wait'],
        r.approvals.map((a) => [a.stepId, a.message, a.outcome, a.by ?? '', dur(a.waitMs)]),
      ),
      '',
    );
  }
  if (r.warnings.length) out.push('## Warnings', '', ...r.warnings.map((w) => `- ${w}`), '');
  return joined(out, '\n');
}

const detailed = (s: ReportStep) => s.error || s.attemptErrors.length || Object.keys(s.outputs).length;

/** What the steps said: errors, failed attempts and outputs, a list per step. */
function* stepDetails(r: Report): Generator<string> {
  let first = true;
  for (const s of r.steps) {
    if (!detailed(s)) continue;
    const lines = [`- **${s.id}**: ${stepOutcome(s)}`];
    if (s.error) lines.push(`  - error: ${s.error}`);
    for (const a of s.attemptErrors) lines.push(`  - ${a}`);
    for (const [k, v] of Object.entries(s.outputs)) lines.push(`  - ${k}: ${code(v)}`);
    yield `${first ? '' : '\n'}${lines.join('\n')}`;
    first = false;
  }
}

/** Backups, restore tests and PITR: what failed or missed its objective in bold. */
function backupSection(b: ReportBackups): Part[] {
  const out: Part[] = ['## Backups', ''];
  for (const t of backupTables(b))
    out.push(
      `### ${t.title}`,
      '',
      table(
        t.head,
        t.rows.map((row) => row.cells.map((c) => (c.cls?.startsWith('missed') ? `**${c.text}**` : c.text))),
      ),
      '',
    );
  return out;
}

function drillSection(d: ReportDrill): Part[] {
  const out: Part[] = ['## Drill', ''];
  out.push(
    `**Verdict: ${verdictWord(d.verdict)}**${d.profile ? ` (judged on client profile ${d.profile})` : ''}`,
    '',
  );
  for (const reason of d.reasons) out.push(`- ${reason}`);
  if (d.reasons.length) out.push('');
  out.push(
    table(
      ['objective', 'measured', 'objective', ''],
      [
        [rtoLabel(d), dur(d.rto.actual), dur(d.rto.objective), metWord(d.rto.met)],
        ['RPO (acknowledged rows lost)', rows(d.rpo.actual), rows(d.rpo.objective), metWord(d.rpo.met)],
        ...(d.restoreOutage
          ? [
              [
                'Restore outage (longest gap)',
                dur(d.restoreOutage.actual),
                dur(d.restoreOutage.objective),
                metWord(d.restoreOutage.met),
              ],
            ]
          : []),
      ],
    ),
    '',
  );
  const fault = d.fault;
  out.push(
    `- Fault: ${fault.kind} on ${fault.node}${fault.atMs !== undefined ? ` at ${dur(fault.atMs)}` : ''}${fault.detail ? ` (${fault.detail})` : ''}; ${fault.reverted ? 'reverted' : `not reverted${fault.revertError ? `: ${fault.revertError}` : ''}`}`,
    `- Probe: ${d.probe.route}, a write every ${dur(d.probe.intervalMs)}: ${d.probe.writesAcked} of ${d.probe.writesSent} acknowledged, ${d.probe.writesFailed} failed, longest gap ${dur(d.probe.longestGapMs)}`,
  );
  if (d.probe.outage)
    out.push(`- Outage seen by clients: ${dur(d.probe.outage.fromAtMs)} → ${dur(d.probe.outage.toAtMs)}`);
  if (d.rpoBytes !== undefined)
    out.push(`- WAL between the old primary and the promotion: ${d.rpoBytes} bytes`);
  if (d.lostSeqs.length) out.push(`- Lost probe rows: ${d.lostSeqs.join(', ')}`);
  out.push(`- Split-brain writes: ${d.splitBrainWrites}`);
  if (d.patroni) out.push(...patroniLines(d.patroni, dur).map((l) => `- ${l}`));
  if (d.steadyState)
    out.push(
      `- Steady state before the fault: ${d.steadyState.healthy ? 'healthy' : `unhealthy (${d.steadyState.problems.join('; ')})`}`,
    );
  if (d.restore)
    out.push(
      `- Restore: ${d.restore.status}${d.restore.runId ? ` (run ${code(d.restore.runId)})` : ''}${d.restore.manualSteps?.length ? `; by hand: ${d.restore.manualSteps.join('; ')}` : ''}`,
    );
  out.push('');
  for (const t of [clientsTable(d), chainTable(d)]) {
    if (!t) continue;
    out.push(
      `### ${t.title}`,
      '',
      table(
        t.head,
        t.rows.map((row) => row.map((c) => c.text)),
      ),
      '',
    );
  }
  if (d.phases.length) {
    out.push('### Phases', '');
    out.push(
      table(
        ['phase', 'steps', 'duration', 'approval wait', 'budget', ''],
        d.phases.map((p) => [
          p.phase,
          p.steps.join(', '),
          dur(p.durationMs),
          p.waitMs ? dur(p.waitMs) : '',
          dur(p.budgetMs),
          metWord(p.met),
        ]),
      ),
      '',
    );
  }
  return out;
}
