// Every renderer from the recorded journals: Markdown, self-contained HTML with its SVG timeline,
// JUnit XML parsed by an XML parser, Prometheus text that parses, and the files on disk.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, test } from 'node:test';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { renderHtml } from '../../src/report/html.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { renderProm } from '../../src/report/prom.js';
import { summaryBlocks } from '../../src/report/slack-run.js';
import { parseFormats, writeReportFiles } from '../../src/report/write.js';
import { buildReport } from '../../src/report/model.js';
import { allKindsRun, backupRun } from './backup-journals.js';
import { fixtureReport } from './fixtures.js';

/** The exposition format, line by line: HELP and TYPE once per family before its samples. */
function parseProm(text: string): Map<string, { labels: Record<string, string>; value: number }[]> {
  const families = new Map<string, { labels: Record<string, string>; value: number }[]>();
  const typed = new Set<string>();
  const helped = new Set<string>();
  assert.ok(text.endsWith('\n'), 'ends with a newline');
  for (const line of text.slice(0, -1).split('\n')) {
    let m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (m) {
      const [, kind, name, rest] = m;
      const seen = kind === 'HELP' ? helped : typed;
      assert.ok(!seen.has(name!), `${kind} ${name} once`);
      seen.add(name!);
      if (kind === 'TYPE') assert.match(rest!, /^(gauge|counter|untyped|histogram|summary)$/);
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*",?)*)\} (\S+)$/.exec(
      line,
    );
    assert.ok(m, `a sample line: ${line}`);
    const [, name, labelText, value] = m;
    assert.ok(typed.has(name!) && helped.has(name!), `${name} has HELP and TYPE before its samples`);
    assert.ok(!Number.isNaN(Number(value)), `${line}: numeric value`);
    const labels = Object.fromEntries(
      [...labelText!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]),
    );
    families.set(name!, [...(families.get(name!) ?? []), { labels, value: Number(value) }]);
  }
  return families;
}

interface JunitCase {
  '@_name': string;
  '@_classname': string;
  failure?: { '@_type': string; '@_message': string };
  skipped?: unknown;
  'system-out'?: string;
}

function junitCases(xml: string): JunitCase[] {
  assert.equal(XMLValidator.validate(xml), true, 'well-formed XML');
  const doc = new XMLParser({
    ignoreAttributes: false,
    isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name),
  }).parse(xml) as { testsuites: { testsuite: { testcase: JunitCase[] }[] } };
  return doc.testsuites.testsuite.flatMap((s) => s.testcase);
}

describe('report renderers', () => {
  test('report.md: outcome, steps against budgets, rollback, budget misses, approvals', () => {
    const ok = renderMarkdown(fixtureReport('succeeded'));
    assert.match(ok, /^# Run succeeded — pg-failover on lab \(staging\)/);
    assert.match(ok, /\| Duration \| 48\.6s of 5m met \|/);
    assert.match(
      ok,
      /## Approvals[\s\S]*\| approve \| Promote a replica of lab\? \| granted \| lead@laptop \| 42\.0s \|/,
    );
    const failed = renderMarkdown(fixtureReport('failed'));
    assert.match(failed, /^# Run failed/);
    assert.match(failed, /## Rollback\n\nAfter `promote` failed/);
    assert.match(failed, /- `verify-primary-down`: 24\.3s of 20\.0s/);
    assert.match(
      failed,
      /\| ok \| verify-primary-down — Verify the primary is down \| verify \| main \| succeeded, over budget \|/,
    );
    const drill = renderMarkdown(fixtureReport('drill'));
    assert.match(drill, /^# Drill monthly-failover: FAIL/);
    assert.match(drill, /\| RPO \(acknowledged rows lost\) \| 1 row \| 0 rows \| MISSED \|/);
    assert.match(drill, /\| promote \| promote \| 1\.20s \| {2}\| 1\.00s \| MISSED \|/);
    assert.match(drill, /\| RTO \(client-observed\) \|/);
    // A data fault (or a restore test) is measured to the recovered data, and says so everywhere.
    const recovered = fixtureReport('drill');
    recovered.drill!.rtoBasis = 'recovery';
    for (const text of [renderMarkdown(recovered), renderHtml(recovered), renderJunit(recovered)]) {
      assert.match(text, /RTO \(data recovered and verified\)/);
      assert.doesNotMatch(text, /client-observed/);
    }
  });

  test('report.html: self-contained, with the SVG timeline of steps, budgets, waits, fault, outage and RTO', () => {
    for (const name of ['succeeded', 'failed', 'drill'] as const) {
      const html = renderHtml(fixtureReport(name));
      assert.ok(!/http/i.test(html), `${name}: no URL at all`);
      assert.ok(!/<link|<script|src=|@import|url\((?!#)/i.test(html), `${name}: no external asset`);
      assert.match(html, /^<!doctype html>/);
      assert.match(html, /<svg class="timeline"/);
      assert.ok((html.match(/class="step-bar /g) ?? []).length >= 5, `${name}: a bar per step`);
      assert.match(html, /class="budget-bar/);
    }
    const ok = renderHtml(fixtureReport('succeeded'));
    assert.match(ok, /class="approval-wait"/);
    assert.match(ok, /class="run-rto off-scale"/, 'an RTO far beyond the run is named, not drawn');
    const failed = renderHtml(fixtureReport('failed'));
    assert.match(failed, /class="step-bar failed"/);
    assert.match(failed, /class="step-bar over"/);
    assert.match(failed, /pg_promote timed out after 5s &lt;b&gt;&amp;&lt;\/b&gt;/, 'escaped');
    const drill = renderHtml(fixtureReport('drill'));
    for (const cls of [
      'fault',
      'outage',
      'rto met',
      'rto-objective',
      'promoted',
      'objectives',
      'gauge missed',
    ])
      assert.ok(drill.includes(`class="${cls}`), `drill timeline has ${cls}`);
  });

  test('report.html: a Patroni drill draws the HA manager chain on the timeline, each link after the fault', () => {
    const r = fixtureReport('drill');
    r.drill!.patroni = {
      leaderBefore: 'pg1',
      leaderAfter: 'pg2',
      failover: true,
      pinnedWrites: { sent: 10, acked: 4 },
      splitBrainWrites: 0,
      chain: [
        { what: 'fault', ms: 0 },
        { what: 'leader key expired: no running leader', ms: 8000, mark: 'leader-lost' },
        { what: 'new leader pg2 elected', ms: 10_000, mark: 'leader-elected' },
        { what: 'clients back', ms: 10_200 },
      ],
    };
    const html = renderHtml(r);
    const links = [...html.matchAll(/<g class="ha-chain">.*?<title>([^<]*)<\/title>.*?<text[^>]*>([^<]*)</g)];
    assert.deepEqual(
      links.map((m) => [m[2], m[1]]),
      [
        ['key expired', 'leader key expired: no running leader: +8.00s'],
        ['leader elected', 'new leader pg2 elected: +10.0s'],
      ],
      'the links with a mark, labelled short, the whole link on hover',
    );
    assert.match(html, /HA manager \(Patroni\)/, 'in the legend');
    assert.ok(!renderHtml(fixtureReport('drill')).includes('class="ha-chain"'), 'not without Patroni');
  });

  test('junit.xml: parsed; a failed step, a missed budget and a missed objective fail their test case', () => {
    const failed = junitCases(renderJunit(fixtureReport('failed')));
    const failures = failed.filter((c) => c.failure).map((c) => [c['@_name'], c.failure!['@_type']]);
    assert.deepEqual(failures, [
      ['verify-primary-down', 'budget-exceeded'],
      ['promote', 'step-failed'],
    ]);
    assert.deepEqual(
      failed.filter((c) => c.skipped !== undefined).map((c) => c['@_name']),
      ['route', 'validate'],
    );
    const ok = junitCases(renderJunit(fixtureReport('succeeded')));
    assert.equal(ok.filter((c) => c.failure).length, 0);
    const drill = junitCases(renderJunit(fixtureReport('drill')));
    assert.deepEqual(
      drill.filter((c) => c.failure).map((c) => c['@_name']),
      ['verdict', 'RPO (acknowledged rows lost)', 'phase promote', 'restore outage (longest gap)'],
    );
    assert.ok(drill.some((c) => c['@_name'] === 'RTO (client-observed)' && !c.failure));
  });

  test('every client profile, the recovery chain and the restore outage in every format', () => {
    const r = fixtureReport('drill');
    assert.deepEqual(
      r.drill!.clients!.map((c) => [
        c.name,
        c.rtoMs,
        c.longestGapMs,
        c.writesFailed,
        c.rpoRows,
        c.restoreOutageMs,
      ]),
      [
        ['typical', 5195, 5165, 65, 1, 2450],
        ['impatient', 5160, 5120, 62, 0, 1100],
      ],
    );
    assert.equal(r.drill!.profile, 'typical');
    assert.deepEqual(r.drill!.restoreOutage, { objective: 2000, actual: 2450, met: false });
    const marks = r.drill!.timeline!.map((m) => m.mark);
    assert.deepEqual(marks.slice(0, 2), ['fault', 'first-failed-write']);
    assert.ok(marks.indexOf('promoted') < marks.indexOf('routed'));
    const times = r.drill!.timeline!.map((m) => m.sinceFaultMs);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
      'in time order',
    );

    const md = renderMarkdown(r);
    assert.match(
      md,
      /### Clients[\s\S]*\| typical \(judged\) \| router main[^|]*\| 5\.00s \/ 5\.00s \| 200ms \| 5\.20s \| 5\.17s \| 65 \| 1 \| 2\.45s \(3 failed\) \|/,
    );
    assert.match(
      md,
      /\| impatient \| router main[^|]*\| 500ms \/ 500ms \| 0ms \| 5\.16s \| 5\.12s \| 62 \| 0 \| 1\.10s \(9 failed\) \|/,
    );
    assert.match(md, /### Recovery chain[\s\S]*\| \+4\.43s \| 6\.43s \| new primary promoted \|/);
    assert.match(md, /\| Restore outage \(longest gap\) \| 2\.45s \| 2\.00s \| MISSED \|/);

    const html = renderHtml(r);
    assert.ok(html.includes('<h2>Clients</h2>') && html.includes('<h2>Recovery chain</h2>'));
    assert.ok(html.includes('typical (judged)') && html.includes('impatient'));

    const cases = junitCases(renderJunit(r));
    const client = cases.find((c) => c['@_name'] === 'client impatient');
    assert.match(
      String(client?.['system-out']),
      /impatient: RTO 5\.16s, longest gap 5\.12s, 62 failed write\(s\), RPO 0 row\(s\), restore outage 1\.10s/,
    );

    const slack = JSON.stringify(summaryBlocks('r1', r));
    assert.match(slack, /\*Clients\* \(judged: typical\)/);
    assert.match(
      slack,
      /typical: RTO 5\.20s, longest gap 5\.17s, 65 failed write\(s\), RPO 1 row\(s\), restore outage 2\.45s/,
    );
    assert.match(slack, /impatient: RTO 5\.16s/);

    const prom = parseProm(renderProm(r));
    assert.deepEqual(
      prom.get('drillbook_drill_client_longest_gap_seconds')!.map((s) => [s.labels.profile, s.value]),
      [
        ['typical', 5.165],
        ['impatient', 5.12],
      ],
    );
    assert.deepEqual(
      prom.get('drillbook_drill_client_restore_outage_seconds')!.map((s) => [s.labels.profile, s.value]),
      [
        ['typical', 2.45],
        ['impatient', 1.1],
      ],
    );
  });

  test('metrics.prom: valid exposition format with the drill and per-step families', () => {
    const drill = parseProm(renderProm(fixtureReport('drill')));
    const one = (name: string) => {
      const samples = drill.get(name);
      assert.equal(samples?.length, 1, name);
      return samples[0]!;
    };
    assert.equal(one('drillbook_drill_rto_seconds').value, 5.195);
    assert.equal(one('drillbook_drill_rpo_rows').value, 1);
    assert.equal(one('drillbook_drill_success').value, 0);
    assert.deepEqual(one('drillbook_drill_success').labels, {
      runbook: 'pg-failover',
      environment: 'lab',
      drill: 'monthly-failover',
    });
    const steps = drill.get('drillbook_step_duration_seconds')!;
    assert.deepEqual(
      steps.map((s) => [s.labels.step, s.value]),
      [
        ['verify-primary-down', 2.9],
        ['pick', 0.3],
        ['promote', 1.2],
        ['route', 0.7],
        ['validate', 0.5],
      ],
    );
    const run = parseProm(renderProm(fixtureReport('failed')));
    assert.equal(run.get('drillbook_run_success')![0]!.value, 0);
    assert.equal(run.has('drillbook_drill_success'), false, 'drill families only for drills');
  });

  test('backups: a Backups section in report.md and report.html, restore time against the RTO, failures with their error', () => {
    const r = buildReport(allKindsRun());
    const md = renderMarkdown(r);
    assert.match(md, /## Backups\n\n### Backups made\n/);
    assert.match(
      md,
      /\| ok \| backup \| base-20250410T010000Z \| basebackup \| 40\.0 \| 8\.00s \| 5\.00 \| yes \| \/var\/backups\/drillbook\/base-20250410T010000Z \| none \| 0\/2000028 → 0\/2000138 \| ok \|/,
    );
    assert.match(
      md,
      /### Restore tests[\s\S]*\| restore \| base-20250410T010000Z \| 26h \| 20\.0s \| 15\.0s \| \*\*MISSED\*\* \|/,
    );
    assert.match(
      md,
      /### Point-in-time recoveries[\s\S]*\| FAILED \| pitr \| .*recovery_target_time = 2025-04-10 12:00:30\+00 .*\| \*\*failed: recovery ended before reaching the target/,
    );
    assert.ok(md.indexOf('## Backups') < md.indexOf('## Steps'), 'the figures before the step table');
    assert.doesNotMatch(renderMarkdown(fixtureReport('succeeded')), /## Backups/);
    assert.match(renderMarkdown(buildReport(backupRun(1))), /\| 40\.0 \| 8\.00s \| 5\.00 \| yes \|/);

    const html = renderHtml(r);
    assert.ok(!/<link|<script|src=|@import|url\((?!#)/i.test(html), 'no external asset');
    assert.match(html, /<h2>Backups<\/h2>\n<div class="backups">\n<h3>Backups made<\/h3>/);
    assert.match(
      html,
      /<td class="num">40\.0<\/td><td class="num">8\.00s<\/td><td class="num">5\.00<\/td><td class="met word">yes<\/td>/,
    );
    assert.match(html, /<td class="num">15\.0s<\/td><td class="missed word">MISSED<\/td>/);
    assert.match(
      html,
      /<tr class="failed">.*<td class="missed">failed: recovery ended before reaching the target/,
    );
    assert.match(
      html,
      /<div class="card missed"><b>20\.0s of 15\.0s<\/b><span>restore: time to usable — RTO MISSED<\/span>/,
    );
    assert.doesNotMatch(renderHtml(fixtureReport('drill')), /<h2>Backups<\/h2>/);
  });

  test('backups: metrics.prom families and JUnit cases for the restore time against the RTO', () => {
    const prom = parseProm(renderProm(buildReport(allKindsRun())));
    const labels = { runbook: 'backup-all', environment: 'lab', step: 'backup', method: 'basebackup' };
    assert.deepEqual(prom.get('drillbook_backup_size_bytes'), [{ labels, value: 40_000_000 }]);
    assert.deepEqual(prom.get('drillbook_backup_duration_seconds'), [{ labels, value: 8 }]);
    assert.deepEqual(prom.get('drillbook_backup_throughput_bytes_per_second'), [
      { labels, value: 5_000_000 },
    ]);
    assert.deepEqual(prom.get('drillbook_backup_success'), [{ labels, value: 1 }]);
    assert.deepEqual(
      prom
        .get('drillbook_restore_time_to_usable_seconds')!
        .map((s) => [s.labels.step, s.labels.kind, s.value]),
      [['restore', 'restore-test', 20]],
      'a failed PITR has no time to usable',
    );
    assert.deepEqual(
      prom.get('drillbook_restore_success')!.map((s) => [s.labels.kind, s.value]),
      [
        ['restore-test', 1],
        ['pitr', 0],
      ],
    );
    assert.deepEqual(
      prom.get('drillbook_restore_rto_met')!.map((s) => s.value),
      [0, 0],
    );
    assert.equal(parseProm(renderProm(fixtureReport('drill'))).has('drillbook_backup_size_bytes'), false);

    const cases = junitCases(renderJunit(buildReport(allKindsRun())));
    assert.deepEqual(
      cases
        .filter((c) => / time to usable$/.test(c['@_name']))
        .map((c) => [c['@_name'], c.failure?.['@_message']]),
      [
        ['restore time to usable', 'restore usable after 20.0s of 15.0s'],
        [
          'pitr time to usable',
          'pitr failed: recovery ended before reaching the target: WAL segment 000000010000000000000003 is not in the archive /lab/archive',
        ],
      ],
    );
  });

  test('label values are escaped', () => {
    const r = fixtureReport('succeeded');
    r.environment.name = 'we"ird\\env\nname';
    const parsed = parseProm(renderProm(r));
    assert.equal(parsed.get('drillbook_run_success')![0]!.labels.environment, 'we\\"ird\\\\env\\nname');
  });

  test('the files land in reports/<date>-<runbook>-<run-id>/, the formats asked for', (t) => {
    const out = mkdtempSync(join(tmpdir(), 'drillbook-reports-'));
    t.after(() => rmSync(out, { recursive: true, force: true }));
    const dir = writeReportFiles(fixtureReport('drill'), out);
    assert.equal(basename(dir), '2025-03-03-pg-failover-20250303-020000-pg-failover-e5f6');
    for (const f of ['report.md', 'report.html', 'report.json', 'junit.xml', 'metrics.prom'])
      assert.ok(existsSync(join(dir, f)), f);
    assert.equal(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')).drill.verdict, 'fail');
    const only = writeReportFiles(fixtureReport('failed'), out, parseFormats('json, prom'));
    assert.deepEqual(
      ['report.json', 'metrics.prom', 'report.html'].map((f) => existsSync(join(only, f))),
      [true, true, false],
    );
    assert.throws(() => parseFormats('md,pdf'), /unknown report format\(s\) "pdf"/);
  });
});
