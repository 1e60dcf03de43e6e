// The few lines a drill ends with: verdict, RTO and RPO against objectives (the session has
// already said where the report is).
import { formatDuration } from '../duration.js';
import {
  clientLine,
  patroniLines,
  rtoLabelOf,
  TIMELINE_LABELS,
  verdictWord,
} from '../schema/drill-outcome.js';
import type { DrillOutcome } from './phases/state.js';

export function formatOutcome(o: DrillOutcome): string {
  const f = o.figures;
  const lines = [`drill ${o.runId}: ${verdictWord(o.verdict)}`];
  if (f) {
    const obj = o.objectives;
    const recovery = f.rtoBasis === 'recovery';
    const none = recovery ? 'none: the data was never recovered' : 'none: writes never recovered';
    lines.push(
      `  ${rtoLabelOf(f.rtoBasis)}: ${f.rtoMs === undefined ? none : formatDuration(f.rtoMs)}${obj ? ` (objective ${formatDuration(obj.rtoMs)})` : ''}`,
      `  RPO: ${f.rpoRows} acknowledged row(s) lost${obj ? ` (objective ${obj.rpoRows})` : ''}${f.rpoBytes === undefined ? '' : `, ${f.rpoBytes} bytes of WAL past the promotion point`}`,
      `  split-brain writes: ${f.splitBrainWrites}; probe writes: ${f.writesAcked} acknowledged, ${f.writesFailed} failed`,
    );
    if (obj?.restoreOutageMs !== undefined)
      lines.push(`  restore outage objective: ${formatDuration(obj.restoreOutageMs)}`);
    if (f.clients?.length) {
      lines.push(`  clients (judged: ${f.profile}):`);
      for (const c of f.clients) lines.push(`    ${clientLine(c)}`);
    }
    if (f.timeline?.length) {
      lines.push('  recovery chain (since the fault):');
      for (const m of f.timeline) {
        const since = m.at - f.faultAt;
        const who = [m.profile, m.detail].filter(Boolean).join(', ');
        lines.push(
          `    ${since < 0 ? '-' : '+'}${formatDuration(Math.abs(since)).padEnd(8)} ${TIMELINE_LABELS[m.mark]}${who ? ` (${who})` : ''}`,
        );
      }
    }
    if (f.patroni) lines.push(...patroniLines(f.patroni, formatDuration).map((l) => `  ${l}`));
  }
  for (const r of o.reasons ?? []) lines.push(`  - ${r}`);
  if (o.restore)
    lines.push(`  restore: ${o.restore.status}${o.restore.runId ? ` (run ${o.restore.runId})` : ''}`);
  return lines.join('\n');
}
