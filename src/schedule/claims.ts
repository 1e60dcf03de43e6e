// Claiming an occurrence before running it: whoever claims it runs it, nobody else. Without a
// coordination database the claims are files in the local state directory (daemons sharing one
// machine); with one, rows in PostgreSQL (./coordination.ts).
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { createExclusive } from '../engine/lock.js';
import { isAlive } from '../system/processes.js';
import type { DrillVerdict } from '../schema/drill-outcome.js';
import type { Occurrence } from './occurrences.js';

/** A drill's verdict, or why a scheduled occurrence produced none. */
export type Verdict = DrillVerdict | 'error' | 'refused';

export interface Outcome {
  verdict: Verdict;
  runId?: string;
  detail?: string;
}

export interface Claim {
  /** Tells the others this daemon is still running the occurrence. */
  heartbeat(): Promise<void>;
  finish(outcome: Outcome): Promise<void>;
}

export type ClaimResult = { claim: Claim } | { claimedBy: string };

/** An occurrence whose daemon died while running it: its environment may still carry the fault. */
export interface Orphan {
  drill: string;
  occurrence: Date;
  environment: string;
  daemon: string;
  lastHeartbeat: Date;
}

export interface Claims {
  claim(occurrence: Occurrence, environment: string): Promise<ClaimResult>;
  /** Orphans not reported yet; each is returned once, to one daemon, and marked reported. */
  orphans(): Promise<Orphan[]>;
  close(): Promise<void>;
}

/** host:pid:random, so a log line or a claim row tells which daemon it was. */
export const daemonId = () => `${hostname()}:${process.pid}:${randomBytes(2).toString('hex')}`;

interface ClaimFile {
  drill: string;
  occurrence: string;
  environment: string;
  daemon: string;
  host: string;
  pid: number;
  claimedAt: string;
  status: 'running' | Verdict | 'orphaned';
  finishedAt?: string;
  runId?: string;
  detail?: string;
}

/** Claim files older than this are removed when the same drill claims again. */
const KEEP_MS = 7 * 24 * 3_600_000;

/**
 * Claims as files created exclusively: one per occurrence under <state>/schedule/claims/<drill>/,
 * kept a week. While its drill runs, a copy sits in <state>/schedule/running/, so looking for
 * orphans (every heartbeat) reads only the claims in progress.
 */
export function fileClaims(stateDir: string, daemon: string, now: () => Date): Claims {
  const root = resolve(stateDir, 'schedule', 'claims');
  const runningDir = resolve(stateDir, 'schedule', 'running');
  const read = (path: string): ClaimFile | undefined => {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as ClaimFile;
    } catch {
      return undefined; // gone, or its creator is between open and write
    }
  };
  const write = (path: string, c: ClaimFile) => writeFileSync(path, JSON.stringify(c) + '\n');

  return {
    async claim(o, environment) {
      const path = join(root, o.drill, `${stamp(o.at)}.json`);
      const marker = join(runningDir, `${o.drill}@${stamp(o.at)}.json`);
      mkdirSync(join(root, o.drill), { recursive: true });
      mkdirSync(runningDir, { recursive: true });
      const mine: ClaimFile = {
        drill: o.drill,
        occurrence: o.at.toISOString(),
        environment,
        daemon,
        host: hostname(),
        pid: process.pid,
        claimedAt: now().toISOString(),
        status: 'running',
      };
      if (!createExclusive(path, mine)) return { claimedBy: read(path)?.daemon ?? 'another daemon' };
      write(marker, mine);
      prune(join(root, o.drill), o.at.getTime() - KEEP_MS);
      return {
        claim: {
          heartbeat: async () => undefined, // the claim's pid tells whether its daemon lives
          async finish(outcome) {
            write(path, { ...mine, ...outcome, status: outcome.verdict, finishedAt: now().toISOString() });
            rmSync(marker, { force: true });
          },
        },
      };
    },

    async orphans() {
      const found: Orphan[] = [];
      for (const name of safeList(runningDir).filter((n) => n.endsWith('.json'))) {
        const marker = join(runningDir, name);
        const c = read(marker);
        if (!c || c.host !== hostname() || isAlive(c.pid)) continue;
        // Several daemons on this machine may find the same orphan: the one whose rename
        // succeeds reports it.
        try {
          renameSync(marker, `${marker}.reported`);
        } catch {
          continue;
        }
        write(join(root, c.drill, `${stamp(new Date(c.occurrence))}.json`), {
          ...c,
          status: 'orphaned',
          detail: `reported by ${daemon}`,
        });
        rmSync(`${marker}.reported`, { force: true });
        found.push({
          drill: c.drill,
          occurrence: new Date(c.occurrence),
          environment: c.environment,
          daemon: c.daemon,
          lastHeartbeat: new Date(c.claimedAt),
        });
      }
      return found;
    },

    close: async () => undefined,
  };
}

/** The occurrence as a file name: ISO time without colons. */
const stamp = (at: Date) => at.toISOString().replace(/:/g, '');

const safeList = (dir: string) => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

/** Removes the claim files of occurrences before `before`. */
function prune(dir: string, before: number) {
  const cutoff = stamp(new Date(before));
  for (const name of safeList(dir)) if (name < cutoff) rmSync(join(dir, name), { force: true });
}
