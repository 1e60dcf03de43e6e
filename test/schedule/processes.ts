// Daemons in child processes (./daemon-child.ts) and their JSON log lines, for the tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ChildConfig } from './daemon-child.js';

export interface LoggedEvent {
  time: string;
  event: string;
  drill?: string;
  occurrence?: string;
  message: string;
  [detail: string]: unknown;
}

export interface ChildDaemon {
  child: ChildProcess;
  events: LoggedEvent[];
  /** Resolves with the first event (seen or to come) that matches. */
  waitFor(match: (e: LoggedEvent) => boolean, timeoutMs?: number): Promise<LoggedEvent>;
  exited: Promise<number | null>;
  stderr(): string;
}

export const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), `drillbook-${prefix}-`));

export function startChild(config: Partial<ChildConfig> & Pick<ChildConfig, 'executions'>): ChildDaemon {
  const full: ChildConfig = {
    stateDir: tempDir('daemon-state'),
    cron: '* * * * * *',
    drillMs: 1000,
    onStop: 'finish',
    heartbeatMs: 200,
    staleMs: 1500,
    ...config,
  };
  mkdirSync(full.executions, { recursive: true });
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/schedule/daemon-child.ts', JSON.stringify(full)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const events: LoggedEvent[] = [];
  const waiters: { match: (e: LoggedEvent) => boolean; resolve: (e: LoggedEvent) => void }[] = [];
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const e = JSON.parse(line) as LoggedEvent;
    events.push(e);
    for (const w of [...waiters]) {
      if (!w.match(e)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(e);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    events,
    exited,
    stderr: () => stderr,
    waitFor(match, timeoutMs = 20_000) {
      const seen = events.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(`no matching event in ${timeoutMs}ms; events: ${JSON.stringify(events)}\n${stderr}`),
            ),
          timeoutMs,
        );
        waiters.push({ match, resolve: (e) => (clearTimeout(timer), resolve(e)) });
      });
    },
  };
}
