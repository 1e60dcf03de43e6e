// The runs the web UI lists: every journal under the state directory (the newest first), each folded
// to what the list shows and filters on — runbook, environment, status, what started it.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { scanJournal, type JournalHeader } from '../../engine/journal.js';
import type { RunEvent } from '../../engine/events.js';
import { lockHolder } from '../../engine/lock.js';
import { journalPath } from '../../system/run-paths.js';

export interface RunSummary {
  header: JournalHeader;
  /** succeeded, failed, interrupted (as journalled), running, stopped (resumable), or incomplete. */
  status: string;
  /** A drill's verdict, when the run is a drill. */
  verdict?: string;
  durationMs?: number;
  /** Approvals asked and not answered yet. */
  waiting: string[];
  /** The trigger's name, or `manual` when a person started the run. */
  trigger: string;
}

/** Journals read for the list: enough for weeks of runs, bounded so the page stays quick. */
const MAX_RUNS = 300;

export function summarize(header: JournalHeader, events: Iterable<RunEvent>, live: boolean): RunSummary {
  let status = live ? 'running' : 'incomplete';
  let durationMs: number | undefined;
  let verdict: string | undefined;
  const waiting = new Set<string>();
  for (const e of events) {
    if (e.type === 'run-finished') {
      status = e.status;
      durationMs = e.durationMs;
    } else if (e.type === 'run-stopped') {
      status = live ? 'running' : 'stopped';
      durationMs = e.durationMs;
    } else if (e.type === 'run-resumed') status = live ? 'running' : 'incomplete';
    else if (e.type === 'drill-finished') verdict = e.verdict;
    else if (e.type === 'approval-requested') waiting.add(e.stepId);
    else if (e.type === 'approval-granted' || e.type === 'approval-denied') waiting.delete(e.stepId);
  }
  if (status !== 'running') waiting.clear();
  return {
    header,
    status,
    verdict,
    durationMs,
    waiting: [...waiting],
    trigger: header.trigger?.name ?? 'manual',
  };
}

export interface RunIndex {
  /** One run's summary (`live`: this serve runs it); undefined when its journal is missing or unreadable. */
  summary(runId: string, live: boolean): RunSummary | undefined;
  /** The newest runs first (run ids begin with their start time). */
  list(isLive: (runId: string) => boolean): RunSummary[];
}

/**
 * The runs of a state directory, each journal read again only when it has grown: the runs page
 * refreshes itself every few seconds, and a finished run's journal never changes.
 */
export function runIndex(stateDir: string): RunIndex {
  const cache = new Map<string, { size: number; running: boolean; summary: RunSummary }>();
  const read = (runId: string, live: boolean): RunSummary | undefined => {
    const path = journalPath(stateDir, runId);
    if (!existsSync(path)) return undefined;
    const { size } = statSync(path);
    const known = cache.get(runId);
    if (known?.size === size && known.running === live) return known.summary;
    let header: JournalHeader | undefined;
    const events: RunEvent[] = [];
    try {
      scanJournal(
        path,
        (h) => (header = h),
        (e) => events.push(e),
        { check: false },
      );
    } catch {
      return undefined; // a damaged journal is not listed; `drillbook report` names the damage
    }
    if (!header) return undefined;
    const summary = summarize(header, events, live);
    cache.set(runId, { size, running: live, summary });
    return summary;
  };
  const summary = (runId: string, live: boolean) => {
    const first = read(runId, live);
    // A run another process runs on this machine holds its environment's lock while it runs.
    if (live || !first || lockHolder(stateDir, first.header.environment.name)?.runId !== runId) return first;
    return read(runId, true);
  };
  return {
    summary,
    list(isLive) {
      const dir = join(stateDir, 'runs');
      const ids = existsSync(dir) ? readdirSync(dir).sort().reverse().slice(0, MAX_RUNS) : [];
      return ids.flatMap((id) => {
        try {
          return summary(id, isLive(id)) ?? [];
        } catch {
          return []; // a directory whose name is no run id
        }
      });
    },
  };
}

export interface RunFilter {
  environment?: string;
  runbook?: string;
  status?: string;
  trigger?: string;
}

export const filterRuns = (runs: RunSummary[], f: RunFilter) =>
  runs.filter(
    (r) =>
      (!f.environment || r.header.environment.name === f.environment) &&
      (!f.runbook || r.header.runbook.name === f.runbook) &&
      (!f.status || r.status === f.status) &&
      (!f.trigger || r.trigger === f.trigger),
  );
