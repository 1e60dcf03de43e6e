// The SVG figures of report.html: the timeline (each step a bar against its budget, approval waits
// apart, the fault, the probe's outage window, RTO marks) and the objectives chart (RTO, RPO).
// Inline SVG needs no namespace or external asset, so the HTML stays one offline file.
import { joined } from './chunks.js';
import type { Report, ReportStep } from './schema.js';
import { dur, rows, rtoLabel } from './text.js';
import { esc } from './xml.js';
import type { TimelineMarkKind } from '../schema/drill-outcome.js';

const WIDTH = 960;
const LABEL_W = 210;
const RIGHT = 24;
const ROW_H = 24;
const BAR_H = 14;
const TOP = 28;
const AXIS_H = 42;

/** The scale: run time on x, clamped to the plot (long budgets run off its right edge). */
function scale(domainMs: number) {
  const plot = WIDTH - LABEL_W - RIGHT;
  return (ms: number) => LABEL_W + (Math.min(Math.max(ms, 0), domainMs) / domainMs) * plot;
}

/** What the x axis must show: the whole run, and the objectives when they are near it. */
function domainOf(r: Report): number {
  let end = r.spanMs;
  const d = r.drill;
  if (d?.fault.atMs !== undefined)
    end = Math.max(end, d.fault.atMs + (d.rto.actual ?? 0), d.fault.atMs + d.rto.objective);
  if (d?.probe.outage) end = Math.max(end, d.probe.outage.toAtMs);
  // An RTO far beyond the run would squash every bar: it is named instead of drawn then.
  if (r.rto.objectiveMs !== undefined && r.rto.objectiveMs <= 2 * Math.max(r.spanMs, 1))
    end = Math.max(end, r.rto.objectiveMs);
  return Math.max(end * 1.04, 1);
}

/** Tick spacing of 1, 2 or 5 times a power of ten, at most ~8 ticks. */
function tickStep(domainMs: number): number {
  const raw = domainMs / 8;
  const pow = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw)!;
}

const rect = (cls: string, x: number, y: number, w: number, h: number, title: string) =>
  `<rect class="${cls}" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(w, 1).toFixed(1)}" height="${h}"><title>${esc(title)}</title></rect>`;

/** A vertical mark with its label beside it (on its left near the right edge, so it stays readable). */
const vline = (cls: string, x: number, y1: number, y2: number, label: string, title: string) => {
  const left = x > WIDTH - 160;
  return `<g class="${cls}"><line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${y1}" y2="${y2}"><title>${esc(title)}</title></line><text x="${(left ? x - 3 : x + 3).toFixed(1)}" y="${y1 + 10}"${left ? ' text-anchor="end"' : ''}>${esc(label)}</text></g>`;
};

function stepClass(s: ReportStep): string {
  if (s.status === 'failed') return 'failed';
  if (s.status === 'skipped' || s.status === 'not-run') return 'skipped';
  return s.overBudget ? 'over' : 'ok';
}

/** Where things go on the timeline: the run's time on x, one row per step under the probe's row. */
interface Plot {
  r: Report;
  domain: number;
  x: (ms: number) => number;
  /** The y of the axis under the rows. */
  bottom: number;
  rowY: (i: number) => number;
}

const label = (y: number, text: string, cls = 'label') =>
  `<text class="${cls}" x="${LABEL_W - 8}" y="${y + ROW_H / 2 + 4}" text-anchor="end">${esc(text)}</text>`;

/** The timeline's SVG in pieces: a row per step, and a long run has thousands. */
export function* renderTimeline(r: Report): Generator<string> {
  const domain = domainOf(r);
  const probeRow = r.drill ? 1 : 0;
  const height = TOP + (r.steps.length + probeRow) * ROW_H + AXIS_H;
  const p: Plot = {
    r,
    domain,
    x: scale(domain),
    bottom: height - AXIS_H,
    rowY: (i) => TOP + (i + probeRow) * ROW_H,
  };
  function* parts() {
    yield* ticks(p);
    for (const [i, s] of r.steps.entries()) yield* stepRow(p, s, i);
    yield* approvalWaits(p);
    if (r.drill) yield* drillMarks(p, r.drill);
    yield* runRtoMarks(p);
  }
  yield `<svg class="timeline" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="step timeline against budgets">
<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#e9d8fd"/><line x1="0" y1="0" x2="0" y2="6" stroke="#805ad5" stroke-width="3"/></pattern></defs>
`;
  yield* joined(parts(), '\n');
  yield `
</svg>`;
}

function ticks({ domain, x, bottom }: Plot): string[] {
  const parts: string[] = [];
  const step = tickStep(domain);
  for (let ms = 0; ms <= domain; ms += step) {
    parts.push(
      `<g class="tick"><line x1="${x(ms).toFixed(1)}" x2="${x(ms).toFixed(1)}" y1="${TOP}" y2="${bottom}"/><text x="${x(ms).toFixed(1)}" y="${bottom + 16}" text-anchor="middle">${esc(dur(ms))}</text></g>`,
    );
  }
  return parts;
}

/** A step's label, its budget behind and its bar in front. */
function stepRow({ r, domain, x, rowY }: Plot, s: ReportStep, i: number): string[] {
  const y = rowY(i);
  const barY = y + (ROW_H - BAR_H) / 2;
  const parts = [label(y, `${s.phase === 'rollback' ? '↺ ' : ''}${s.id}`)];
  if (s.startAtMs === undefined) return parts;
  const start = s.startAtMs;
  if (s.budgetMs !== undefined) {
    const clipped = start + s.budgetMs > domain ? ' clipped' : '';
    parts.push(
      rect(
        `budget-bar${clipped}`,
        x(start),
        barY - 2,
        x(start + s.budgetMs) - x(start),
        BAR_H + 4,
        `${s.id}: budget ${dur(s.budgetMs)}`,
      ),
    );
  }
  const took = s.durationMs ?? Math.max(0, r.spanMs - start);
  parts.push(
    rect(
      `step-bar ${stepClass(s)}`,
      x(start),
      barY,
      x(start + took) - x(start),
      BAR_H,
      `${s.id} [${s.kind}]: ${s.status}, ${dur(s.durationMs)}${s.budgetMs !== undefined ? ` of ${dur(s.budgetMs)}` : ''}${s.waitMs ? `, ${dur(s.waitMs)} waiting for approval` : ''}`,
    ),
  );
  return parts;
}

function approvalWaits({ r, x, rowY }: Plot): string[] {
  const parts: string[] = [];
  for (const a of r.approvals) {
    const i = r.steps.findIndex((s) => s.id === a.stepId);
    if (i < 0) continue;
    const barY = rowY(i) + (ROW_H - BAR_H) / 2;
    parts.push(
      rect(
        'approval-wait',
        x(a.requestedAtMs),
        barY,
        x(a.requestedAtMs + a.waitMs) - x(a.requestedAtMs),
        BAR_H,
        `${a.stepId}: ${dur(a.waitMs)} waiting for a human (${a.outcome}${a.by ? ` by ${a.by}` : ''}), counted apart`,
      ),
    );
  }
  return parts;
}

const CHAIN_LABELS: Partial<Record<TimelineMarkKind, string>> = {
  'leader-lost': 'key expired',
  'leader-elected': 'leader elected',
  promoted: 'new timeline',
  routed: 'routed',
};

/** The probe's row (the clients' outage), the fault, the drill's RTO, the promotion and the HA manager's chain. */
function drillMarks({ x, bottom }: Plot, d: NonNullable<Report['drill']>): string[] {
  const y = TOP;
  const parts = [label(y, 'probe (clients)', 'label probe')];
  if (d.probe.outage) {
    const { fromAtMs, toAtMs } = d.probe.outage;
    parts.push(
      rect(
        'outage',
        x(fromAtMs),
        y + 3,
        x(toAtMs) - x(fromAtMs),
        ROW_H - 6,
        `clients could not write: ${dur(toAtMs - fromAtMs)}`,
      ),
    );
  }
  if (d.fault.atMs !== undefined) {
    const f = d.fault.atMs;
    parts.push(
      vline(
        'fault',
        x(f),
        TOP - 14,
        bottom,
        `fault: ${d.fault.kind} ${d.fault.node}`,
        `fault injected at ${dur(f)}`,
      ),
    );
    parts.push(
      vline(
        'rto-objective',
        x(f + d.rto.objective),
        TOP - 14,
        bottom,
        `RTO objective ${dur(d.rto.objective)}`,
        'fault + RTO objective',
      ),
    );
    if (d.rto.actual !== undefined)
      parts.push(
        rect(
          `rto ${d.rto.met ? 'met' : 'missed'}`,
          x(f),
          y + ROW_H - 5,
          x(f + d.rto.actual) - x(f),
          4,
          `RTO ${dur(d.rto.actual)} of ${dur(d.rto.objective)}`,
        ),
      );
  }
  // The HA manager's chain (it runs no step of ours): a short label per link, staggered so that
  // close links stay readable; the whole link on hover.
  const faultAt = d.fault.atMs;
  if (d.patroni && faultAt !== undefined)
    d.patroni.chain.forEach((c, i) => {
      if (c.mark)
        parts.push(
          vline(
            'ha-chain',
            x(faultAt + c.ms),
            TOP + 9 * (i % 4),
            bottom,
            CHAIN_LABELS[c.mark] ?? c.mark,
            `${c.what}: +${dur(c.ms)}`,
          ),
        );
    });
  if (d.promotedAtMs !== undefined)
    parts.push(
      vline(
        'promoted',
        x(d.promotedAtMs),
        TOP,
        bottom,
        'promoted',
        `promotion finished at ${dur(d.promotedAtMs)}`,
      ),
    );
  return parts;
}

/** The runbook's own RTO objective (named at the edge when far off the scale) and where it ran out. */
function runRtoMarks({ r, domain, x, bottom }: Plot): string[] {
  const parts: string[] = [];
  if (r.rto.objectiveMs !== undefined) {
    parts.push(
      r.rto.objectiveMs <= domain
        ? vline(
            'run-rto',
            x(r.rto.objectiveMs),
            TOP - 14,
            bottom,
            `run RTO ${dur(r.rto.objectiveMs)}`,
            'the runbook’s RTO objective',
          )
        : `<text class="run-rto off-scale" x="${WIDTH - RIGHT}" y="${bottom + 34}" text-anchor="end">run RTO ${esc(dur(r.rto.objectiveMs))} →</text>`,
    );
  }
  if (r.rto.exceededAtMs !== undefined)
    parts.push(
      vline(
        'rto-exceeded',
        x(r.rto.exceededAtMs),
        TOP,
        bottom,
        'RTO exceeded',
        'the run went past its RTO here',
      ),
    );
  return parts;
}

interface Gauge {
  name: string;
  actual?: number;
  objective: number;
  met?: boolean;
  show(v: number | undefined): string;
}

/** RTO and RPO against their objectives: one horizontal gauge each, the objective as a mark. */
export function renderObjectives(r: Report): string {
  const gauges: Gauge[] = [];
  const d = r.drill;
  if (d) {
    gauges.push({ name: rtoLabel(d), ...d.rto, show: dur });
    gauges.push({ name: 'RPO (rows lost)', ...d.rpo, show: rows });
  }
  if (r.rto.objectiveMs !== undefined)
    gauges.push({
      name: 'Run duration vs RTO',
      actual: r.rto.actualMs,
      objective: r.rto.objectiveMs,
      met: r.rto.met,
      show: dur,
    });
  if (!gauges.length) return '';
  const track = 480;
  const left = 200;
  const height = gauges.length * 34 + 8;
  const parts = gauges.map((g, i) => {
    const y = 8 + i * 34;
    const max = Math.max(g.actual ?? 0, g.objective, 1) * 1.25;
    const px = (v: number) => left + (v / max) * track;
    const missing = g.actual === undefined;
    return `<g class="gauge ${missing ? 'none' : g.met ? 'met' : 'missed'}">
<text class="label" x="${left - 8}" y="${y + 15}" text-anchor="end">${esc(g.name)}</text>
<rect class="track" x="${left}" y="${y + 4}" width="${track}" height="14"/>
${missing ? '' : `<rect class="value" x="${left}" y="${y + 4}" width="${Math.max(px(g.actual!) - left, 1).toFixed(1)}" height="14"><title>${esc(g.show(g.actual))}</title></rect>`}
<line class="objective" x1="${px(g.objective).toFixed(1)}" x2="${px(g.objective).toFixed(1)}" y1="${y}" y2="${y + 22}"><title>objective ${esc(g.show(g.objective))}</title></line>
<text x="${left + track + 10}" y="${y + 15}">${esc(`${g.show(g.actual)} / objective ${g.show(g.objective)}${missing ? ' (never measured)' : g.met ? ' met' : ' MISSED'}`)}</text>
</g>`;
  });
  return `<svg class="objectives" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="RTO and RPO against objectives">
${parts.join('\n')}
</svg>`;
}
