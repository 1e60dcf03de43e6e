// bench/alert-chain's second half: a `drillbook serve` of its own (bin/drillbook.js, so npm run
// build first) under a steady rate of Alertmanager webhook POSTs, each distinct alert sent many
// times over (Alertmanager's repeats, an HA pair's copies). Its triggers start a one-step runbook
// (wait 100ms) on one of ENVIRONMENTS copies of the lab's environment in turn, so a run still
// writing its reports when the next alert comes does not make that alert `busy`. Returns the response times, how many runs each alert
// started (serve's alerts.jsonl), and serve's peak RSS (VmHWM of /proc/PID/status).
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Agent, request } from 'node:http';
import { parse, stringify } from 'yaml';

const ENVIRONMENTS = 10;

export interface LoadResult {
  posts: number;
  latenciesMs: number[];
  errors: number;
  statuses: Map<number, number>;
  alerts: number;
  /** Per alert key: the runs it started (exactly 1 expected). */
  startedPerAlert: Map<string, number>;
  outcomes: Map<string, number>;
  peakRssMb: number;
}

export async function webhookLoad(o: {
  dir: string;
  inventory: string;
  tokenFile: string;
  rate: number;
  seconds: number;
}): Promise<LoadResult> {
  const runbook = join(o.dir, 'bench-quick.yaml');
  writeFileSync(
    runbook,
    'apiVersion: drillbook/v1\nkind: Runbook\nmetadata: { name: bench-quick }\nsteps:\n  - id: settle\n    kind: wait\n    with: { duration: 100ms }\n',
  );
  const inventory = join(o.dir, 'bench-inventory.yaml');
  const lab = parse(readFileSync(o.inventory, 'utf8')) as { environments: Record<string, unknown> };
  lab.environments = Object.fromEntries(
    Array.from({ length: ENVIRONMENTS }, (_, i) => [`bench${i}`, lab.environments.lab]),
  );
  writeFileSync(inventory, stringify(lab));
  const triggers = join(o.dir, 'bench-triggers.yaml');
  writeFileSync(
    triggers,
    `apiVersion: drillbook/v1\nkind: Triggers\nmetadata: { name: bench }\nreceiver: { token: "file:${o.tokenFile}" }\ntriggers:\n  - name: bench\n    match: { alertname: BenchAlert }\n    runbook: ${runbook}\n    environment: \${{ alert.labels.env }}\n`,
  );
  const stateDir = join(o.dir, 'serve-state');
  const serve = spawn(
    process.execPath,
    [
      'bin/drillbook.js',
      'serve',
      '--listen',
      '127.0.0.1:0',
      '--triggers',
      triggers,
      '--inventory',
      inventory,
      '--state-dir',
      stateDir,
      '--reports-dir',
      join(o.dir, 'reports'),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const url = await listeningUrl(serve.stdout!);
    const token = readFileSync(o.tokenFile, 'utf8').trim();
    const agent = new Agent({ keepAlive: true, maxSockets: 64 });
    const latenciesMs: number[] = [];
    const statuses = new Map<number, number>();
    let errors = 0;
    const total = o.rate * o.seconds;
    const start = performance.now();
    const startWall = Date.now();
    const sent: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      // One new alert a second; every POST of that second repeats it.
      const second = Math.floor(i / o.rate);
      const body = payload(second, startWall);
      const due = start + (i * 1000) / o.rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const t0 = performance.now();
      sent.push(
        post(agent, `${url}/hooks/alertmanager`, token, body).then(
          (status) => {
            latenciesMs.push(performance.now() - t0);
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
          },
          () => void errors++,
        ),
      );
    }
    await Promise.all(sent);
    agent.destroy();
    const peakRssMb = peakRss(serve.pid!);
    await new Promise((r) => setTimeout(r, 1000)); // the last runs end
    const lines = readFileSync(join(stateDir, 'serve', 'alerts.jsonl'), 'utf8')
      .trim()
      .split('\n');
    const startedPerAlert = new Map<string, number>();
    const outcomes = new Map<string, number>();
    for (const l of lines) {
      const r = JSON.parse(l) as { key: string; outcome: string };
      outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
      startedPerAlert.set(r.key, (startedPerAlert.get(r.key) ?? 0) + (r.outcome === 'started' ? 1 : 0));
    }
    return {
      posts: total,
      latenciesMs,
      errors,
      statuses,
      alerts: o.seconds,
      startedPerAlert,
      outcomes,
      peakRssMb,
    };
  } finally {
    serve.kill('SIGTERM');
    await new Promise((r) => serve.once('exit', r));
  }
}

/** Alert `second` of the run, the same bytes however often it is sent. */
function payload(second: number, startWall: number): string {
  const startsAt = new Date(startWall + second * 1000).toISOString();
  return JSON.stringify({
    version: '4',
    status: 'firing',
    receiver: 'drillbook',
    groupLabels: { alertname: 'BenchAlert' },
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'BenchAlert', env: `bench${second % ENVIRONMENTS}`, n: String(second) },
        annotations: { summary: `bench alert ${second}` },
        startsAt,
        fingerprint: `bench${String(second).padStart(4, '0')}`,
      },
    ],
  });
}

function post(agent: Agent, url: string, token: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function listeningUrl(stdout: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: stdout });
    const timer = setTimeout(() => reject(new Error('serve did not start within 20 s')), 20_000);
    lines.on('line', (line) => {
      const m = /"event":"listening","url":"([^"]+)"/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
  });
}

/** The process's peak resident set (VmHWM), in MB. */
function peakRss(pid: number): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}
