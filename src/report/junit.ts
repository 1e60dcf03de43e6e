// junit.xml for CI dashboards: each step is a test case (a failed step or a missed budget fails
// it), and so is each objective (run RTO; a restore's time to usable; drill RTO, RPO, split brain,
// phases, restore outage, restore); each client profile's figures are a case of their own.
import { joined, mapped, whole, type Chunks } from './chunks.js';
import { clientLine } from '../schema/drill-outcome.js';
import type { Report, ReportStep } from './schema.js';
import { dur, ofLimit, rows, rtoLabel } from './text.js';
import { esc } from './xml.js';

interface Case {
  classname: string;
  name: string;
  timeMs?: number;
  failure?: { type: string; message: string; detail?: string };
  skipped?: string;
  /** What the case measured, for a reader of the case (JUnit's system-out). */
  out?: string;
}

const seconds = (ms: number | undefined) => ((ms ?? 0) / 1000).toFixed(3);

function caseXml(c: Case): string {
  const open = `    <testcase classname="${esc(c.classname)}" name="${esc(c.name)}" time="${seconds(c.timeMs)}"`;
  if (c.failure)
    return `${open}>\n      <failure type="${esc(c.failure.type)}" message="${esc(c.failure.message)}">${esc(c.failure.detail ?? c.failure.message)}</failure>\n    </testcase>`;
  if (c.skipped) return `${open}>\n      <skipped message="${esc(c.skipped)}"/>\n    </testcase>`;
  if (c.out) return `${open}>\n      <system-out>${esc(c.out)}</system-out>\n    </testcase>`;
  return `${open}/>`;
}

/**
 * A suite; `cases` gives them anew on each call: counted first, then written one by one (a long
 * run's steps are thousands of cases).
 */
function* suiteXml(
  name: string,
  cases: () => Iterable<Case>,
  timestamp: string,
  properties: Record<string, string>,
): Generator<string> {
  let tests = 0;
  let failures = 0;
  let skipped = 0;
  let time = 0;
  for (const c of cases()) {
    tests++;
    if (c.failure) failures++;
    if (c.skipped) skipped++;
    time += c.timeMs ?? 0;
  }
  const props = Object.entries(properties)
    .map(([k, v]) => `      <property name="${esc(k)}" value="${esc(v)}"/>`)
    .join('\n');
  yield `  <testsuite name="${esc(name)}" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds(time)}" timestamp="${esc(timestamp.replace(/Z$/, ''))}">
    <properties>
${props}
    </properties>
`;
  yield* joined(mapped(cases(), caseXml), '\n');
  yield `
  </testsuite>`;
}

function stepCase(r: Report, s: ReportStep): Case {
  const c: Case = { classname: `${r.runbook.name}.${s.phase}`, name: s.id, timeMs: s.durationMs };
  if (s.status === 'failed')
    c.failure = {
      type: 'step-failed',
      message: `${s.id} failed${s.continued ? ' (the run continued)' : ''}: ${s.error ?? 'unknown error'}`,
      detail: [s.error, ...s.attemptErrors].filter(Boolean).join('\n'),
    };
  else if (s.overBudget)
    c.failure = { type: 'budget-exceeded', message: `over budget: ${ofLimit(s.durationMs, s.budgetMs)}` };
  else if (s.status === 'skipped') c.skipped = s.skipReason ?? 'skipped';
  else if (s.status === 'not-run') c.skipped = 'not run';
  else if (s.status === 'running')
    c.failure = { type: 'incomplete', message: 'the run ended while this step ran' };
  return c;
}

function objectiveCases(r: Report): Case[] {
  const cases: Case[] = [];
  const klass = `${r.runbook.name}.objectives`;
  if (r.rto.objectiveMs !== undefined)
    cases.push({
      classname: klass,
      name: 'run RTO',
      timeMs: r.rto.actualMs,
      ...(!r.rto.met && {
        failure: { type: 'rto-missed', message: `run took ${ofLimit(r.rto.actualMs, r.rto.objectiveMs)}` },
      }),
    });
  // A restore's time to a usable instance against the runbook's RTO.
  for (const t of [...(r.backups?.restoreTests ?? []), ...(r.backups?.pitr ?? [])]) {
    if (!t.rto) continue;
    const message =
      t.status === 'failed'
        ? `${t.stepId} failed: ${t.error ?? 'unknown error'}`
        : `${t.stepId} usable after ${ofLimit(t.rto.actual, t.rto.objective)}`;
    cases.push({
      classname: klass,
      name: `${t.stepId} time to usable`,
      timeMs: t.timeToUsableMs,
      ...(!t.rto.met && { failure: { type: 'rto-missed', message } }),
    });
  }
  const d = r.drill;
  if (!d) return cases;
  const drillClass = `drill.${d.name}`;
  const objective = (name: string, met: boolean, message: string, timeMs?: number): Case => ({
    classname: drillClass,
    name,
    timeMs,
    ...(!met && { failure: { type: 'objective-missed', message } }),
  });
  cases.push(
    objective('verdict', d.verdict === 'pass', `verdict ${d.verdict}: ${d.reasons.join('; ')}`),
    objective(rtoLabel(d), d.rto.met, `RTO ${ofLimit(d.rto.actual, d.rto.objective)}`, d.rto.actual),
    objective(
      'RPO (acknowledged rows lost)',
      d.rpo.met,
      `RPO ${rows(d.rpo.actual)}, objective ${rows(d.rpo.objective)}`,
    ),
    objective(
      'no split-brain writes',
      d.splitBrainWrites === 0,
      `${d.splitBrainWrites} split-brain write(s)`,
    ),
    ...d.phases.map((p) =>
      objective(
        `phase ${p.phase}`,
        p.met !== false,
        `phase ${p.phase} took ${ofLimit(p.durationMs - p.waitMs, p.budgetMs)}`,
        p.durationMs,
      ),
    ),
  );
  if (d.restoreOutage)
    cases.push(
      objective(
        'restore outage (longest gap)',
        d.restoreOutage.met,
        `restore outage ${ofLimit(d.restoreOutage.actual, d.restoreOutage.objective)}`,
      ),
    );
  // Every profile's figures; the judged one's objectives are the cases above.
  for (const c of d.clients ?? [])
    cases.push({ classname: drillClass, name: `client ${c.name}`, out: clientLine(c) });
  if (d.restore)
    cases.push(
      d.restore.status === 'skipped'
        ? { classname: drillClass, name: 'restore', skipped: 'restore skipped' }
        : objective(
            'restore',
            d.restore.status === 'succeeded',
            `restore ${d.restore.status}${d.restore.manualSteps?.length ? `; by hand: ${d.restore.manualSteps.join('; ')}` : ''}`,
          ),
    );
  if (!d.fault.reverted)
    cases.push(
      objective(
        'fault reverted',
        false,
        `fault not reverted${d.fault.revertError ? `: ${d.fault.revertError}` : ''}`,
      ),
    );
  return cases;
}

export const renderJunit = (r: Report): string => whole(junitChunks(r));

/** junit.xml in pieces, as written (see chunks.ts). */
export function* junitChunks(r: Report): Generator<string> {
  const properties = {
    run: r.run.id,
    runbook: r.runbook.name,
    environment: `${r.environment.name} (${r.environment.label})`,
    status: r.run.status,
    duration: dur(r.run.durationMs),
  };
  const suites: Chunks[] = [
    suiteXml(
      `${r.runbook.name} steps (${r.environment.name})`,
      () => mapped(r.steps, (s) => stepCase(r, s)),
      r.run.createdAt,
      properties,
    ),
  ];
  const objectives = objectiveCases(r);
  if (objectives.length)
    suites.push(
      suiteXml(
        `${r.drill ? `drill ${r.drill.name}` : r.runbook.name} objectives`,
        () => objectives,
        r.run.createdAt,
        properties,
      ),
    );
  yield `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="drillbook ${esc(r.run.id)}">
`;
  yield* joined(suites, '\n');
  yield `
</testsuites>
`;
}
