// drillbook's own failover beside Patroni's, in one run on one machine, with the same probe (50 ms
// writes through HAProxy, the drill engine's): for each setup, N crashes of the primary and N 2 s
// freezes of it, each followed by the drill's restore.
//   plain lab: drills/primary-kill.yaml (SIGKILL of the postmaster, pg-failover triggered at once)
//              and a 2 s primary-freeze (pg-failover again: a promotion there is a false failover);
//   alerted:   the same on a --monitoring lab with `trigger: alert`: Prometheus, Alertmanager and
//              the lab's serve start pg-failover (drills/primary-kill-alerted.yaml), so detection counts;
//   Patroni:   drills/patroni/node-crash.yaml (SIGKILL of Patroni and PostgreSQL) and a 2 s
//              freeze-node observed by patroni-recovery-observed (a leader change is a false
//              failover), at Patroni's defaults (ttl 30 / loop_wait 10 / retry_timeout 10), at
//              20 / 1 / 3 and at 8 / 1 / 3;
// each async and with --sync. Prints a markdown table: RTO p50/p95 (client-observed), RPO rows
// (worst and total), split-brain writes, false failovers, drill verdicts.
// Run: node --import tsx bench/ha-side-by-side.ts [--kills 5] [--freezes N (default: kills)]
//      [--slot 18] [--only plain,alerted,patroni-8] [--json FILE]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { repairLabOf } from '../src/cli/lab-repair.js';
import { runDrill } from '../src/drill/run-drill.js';
import type { DrillOutcome } from '../src/drill/phases/state.js';
import { promotedNode } from '../src/drill/measure.js';
import { readJournal } from '../src/engine/journal.js';
import type { LabUpOptions } from '../src/lab/index.js';
import { journalPath } from '../src/system/run-paths.js';
import { withPrivateLab } from '../test/helpers/private-lab.js';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '5' },
    freezes: { type: 'string' },
    slot: { type: 'string', default: '18' },
    only: { type: 'string' },
    json: { type: 'string' },
  },
});
const kills = Number(values.kills);
const freezes = Number(values.freezes ?? values.kills);
const slot = Number(values.slot);

interface Setup {
  name: string;
  options: Omit<LabUpOptions, 'dir'>;
  /** Patroni's ttl / loop_wait / retry_timeout; none for drillbook's own failover. */
  patroni?: { ttl: number; loopWait: number; retryTimeout: number };
  /** drillbook's failover started by the lab's alert (lab up --monitoring), not by the drill. */
  alerted?: boolean;
}

const patroniSetup = (ttl: number, loopWait: number, retryTimeout: number, sync: boolean): Setup => ({
  name: `Patroni ttl ${ttl} / ${loopWait} / ${retryTimeout}${sync ? ', --sync' : ''}`,
  patroni: { ttl, loopWait, retryTimeout },
  options: {
    ha: 'patroni',
    sync,
    // The slot's ports +6/+7 (etcd) and +8 (REST), as test/helpers/patroni-lab.ts has them for slot 18.
    etcdPort: 16400 + slot * 10 + 6,
    patroniRestPort: 16400 + slot * 10 + 8,
    patroni: `ttl=${ttl},loop_wait=${loopWait},retry_timeout=${retryTimeout}`,
  },
});
const setups: (Setup & { key: string })[] = [false, true].flatMap((sync) => [
  { key: 'plain', name: `drillbook pg-failover (immediate)${sync ? ', --sync' : ''}`, options: { sync } },
  {
    key: 'alerted',
    name: `drillbook pg-failover (alert-triggered)${sync ? ', --sync' : ''}`,
    options: { sync, monitoring: true },
    alerted: true,
  },
  { key: 'patroni-30', ...patroniSetup(30, 10, 10, sync) },
  { key: 'patroni-20', ...patroniSetup(20, 1, 3, sync) },
  { key: 'patroni-8', ...patroniSetup(8, 1, 3, sync) },
]);
const only = values.only?.split(',');
const chosen = setups.filter((s) => !only || only.includes(s.key));

const RUNBOOKS = resolve('runbooks');
/** A drill file of the bench's own: objectives wide enough that every run is measured, not judged. */
function drillFile(dir: string, name: string, body: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `apiVersion: drillbook/v1\nkind: Drill\nmetadata: { name: ${name} }\nenvironment: lab\nprobe: { via: router, interval: 50ms }\nobjectives: { rto: 5m, rpo: 0 }\nstopConditions: { maxDuration: 5m }\n${body}`,
  );
  return file;
}

function drillsFor(setup: Setup, dir: string): { crash: string; freeze: string } {
  if (!setup.patroni) {
    // Alerted: the drill only injects; a freeze that raises no alert starts nothing (no failover).
    const trigger = setup.alerted ? 'trigger: alert\ntriggerTimeout: 20s\n' : '';
    return {
      crash: drillFile(
        dir,
        'plain-kill',
        `runbook: ${RUNBOOKS}/pg-failover.yaml\nrestore: ${RUNBOOKS}/pg-failback.yaml\ninputs: { reason: "bench: primary killed" }\nfault: { kind: kill-postgres, target: primary }\n${trigger}`,
      ),
      freeze: drillFile(
        dir,
        'plain-freeze',
        `runbook: ${RUNBOOKS}/pg-failover.yaml\nrestore: ${RUNBOOKS}/pg-failback.yaml\ninputs: { reason: "bench: primary frozen 2 s" }\nfault: { kind: freeze, target: primary, duration: 2s }\n${trigger}`,
      ),
    };
  }
  // Watch a 2 s freeze past one ttl and a loop: a failover it causes happens meanwhile.
  const observe = setup.patroni.ttl + setup.patroni.loopWait + 2;
  return {
    crash: drillFile(
      dir,
      'patroni-crash',
      `runbook: ${RUNBOOKS}/patroni-failover-observed.yaml\nrestore: ${RUNBOOKS}/patroni-switchback.yaml\ninputs: { leader: "\${{ env.primary }}", reason: "bench: node crashed" }\nfault: { kind: kill-node, target: primary, expect: failover }\n`,
    ),
    freeze: drillFile(
      dir,
      'patroni-freeze',
      `runbook: ${RUNBOOKS}/patroni-recovery-observed.yaml\nrestore: ${RUNBOOKS}/patroni-switchback.yaml\ninputs: { observe: ${observe}, reason: "bench: node frozen 2 s" }\nfault: { kind: freeze-node, target: primary, duration: 2s, expect: no-failover }\n`,
    ),
  };
}

interface Sample {
  setup: string;
  kind: 'crash' | 'freeze';
  verdict: string;
  reasons: string[];
  rtoMs?: number;
  longestGapMs?: number;
  rpoRows?: number;
  splitBrainWrites?: number;
  /** The primary moved (a promotion by drillbook, a new leader by Patroni). */
  failedOver: boolean;
  restore?: string;
}

async function drill(
  file: string,
  inventoryFile: string,
  stateDir: string,
  setup: Setup,
  kind: Sample['kind'],
  serveStateDir: string | undefined,
) {
  const o: DrillOutcome = await runDrill(
    { drillFile: file, inventoryFile, stateDir, repair: repairLabOf },
    { out: () => undefined, err: () => undefined },
  );
  const events = readJournal(journalPath(stateDir, o.runId)).events;
  // An alerted drill's runbook ran in the lab's serve: its promotion is in that run's journal.
  const alertRun = events.find((e) => e.type === 'drill-triggered')?.alertRun;
  const promoted =
    promotedNode(events) ??
    (alertRun && serveStateDir
      ? promotedNode(readJournal(journalPath(serveStateDir, alertRun)).events)
      : undefined);
  const f = o.figures;
  const sample: Sample = {
    setup: setup.name,
    kind,
    verdict: o.verdict,
    reasons: o.reasons ?? [],
    rtoMs: f?.rtoMs,
    longestGapMs: f?.longestGapMs,
    rpoRows: f?.rpoRows,
    splitBrainWrites: f?.splitBrainWrites,
    failedOver: f?.patroni ? f.patroni.failover : promoted !== undefined,
    restore: o.restore?.status,
  };
  console.error(
    `${setup.name} ${kind}: ${o.verdict} RTO ${fmt(sample.rtoMs)} gap ${fmt(sample.longestGapMs)} RPO ${sample.rpoRows} split ${sample.splitBrainWrites} failover ${sample.failedOver} restore ${sample.restore ?? '-'}${sample.reasons.length ? ` (${sample.reasons.join('; ')})` : ''}`,
  );
  return sample;
}

const fmt = (ms: number | undefined) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`);
const percentile = (xs: number[], p: number) => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

const started = new Date();
const loadBefore = loadavg();
const samples: Sample[] = [];
const work = mkdtempSync(join(tmpdir(), 'drillbook-bench-ha-'));
try {
  for (const setup of chosen) {
    const dir = mkdtempSync(join(work, 'setup-'));
    const { crash, freeze } = drillsFor(setup, dir);
    await withPrivateLab(
      slot,
      async (lab) => {
        const serve = lab.environment.serve?.stateDir;
        for (let i = 0; i < kills; i++)
          samples.push(await drill(crash, lab.inventoryPath, join(dir, 'state'), setup, 'crash', serve));
        for (let i = 0; i < freezes; i++)
          samples.push(await drill(freeze, lab.inventoryPath, join(dir, 'state'), setup, 'freeze', serve));
      },
      setup.options,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const loadAfter = loadavg();
console.log(
  `HA side by side, ${started.toISOString()} to ${new Date().toISOString()}; ${kills} crash(es) and ${freezes} 2 s freeze(s) per setup; load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ${loadAfter.map((l) => l.toFixed(2)).join(' ')} after\n`,
);
console.log(
  '| setup | RTO p50 | RTO p95 | longest gap p50 | RPO rows (worst / total) | split-brain writes | false failovers (2 s freeze) | crash verdicts |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const setup of chosen) {
  const crashes = samples.filter((s) => s.setup === setup.name && s.kind === 'crash');
  const frozen = samples.filter((s) => s.setup === setup.name && s.kind === 'freeze');
  const rtos = crashes.flatMap((s) => (s.rtoMs === undefined ? [] : [s.rtoMs]));
  const gaps = crashes.flatMap((s) => (s.longestGapMs === undefined ? [] : [s.longestGapMs]));
  const rpo = crashes.map((s) => s.rpoRows ?? 0);
  const split = [...crashes, ...frozen].reduce((n, s) => n + (s.splitBrainWrites ?? 0), 0);
  const verdicts = crashes.map((s) => s.verdict).join(', ');
  console.log(
    `| ${setup.name} | ${fmt(percentile(rtos, 50))} | ${fmt(percentile(rtos, 95))} | ${fmt(percentile(gaps, 50))} | ${Math.max(0, ...rpo)} / ${rpo.reduce((a, b) => a + b, 0)} | ${split} | ${frozen.filter((s) => s.failedOver).length} of ${frozen.length} | ${verdicts} |`,
  );
}
if (values.json)
  writeFileSync(values.json, JSON.stringify({ started, loadBefore, loadAfter, samples }, null, 2));
