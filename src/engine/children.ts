// The processes a step started, as the journal records them (pid, and the start time the kernel
// gives it, since pids are reused), and what a resume does with one its crashed run left running:
// wait for it (bounded) or stop its process group, never start a second copy beside it.
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatDuration } from '../duration.js';
import { UserError } from '../errors.js';

export interface ChildRecord {
  stepId: string;
  /** The child's pid, also its process group (steps start commands in their own group). */
  pid: number;
  /** Field 22 of /proc/PID/stat (clock ticks since boot); empty where there is no /proc. */
  startTime: string;
}

export type OrphanPolicy = 'wait' | 'kill';

/** state, process group and start time of a process, from /proc/PID/stat; undefined when gone. */
function statOf(pid: number): { state: string; pgrp: number; startTime: string } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its end.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0]!, pgrp: Number(fields[2]), startTime: fields[19]! };
}

export const processStartTime = (pid: number) => statOf(pid)?.startTime ?? '';

/** Live (not zombie) processes whose process group is `pgid`. */
function groupMembers(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      const s = statOf(pid);
      return s !== undefined && s.pgrp === pgid && s.state !== 'Z';
    });
}

/**
 * Whether anything of the recorded child still runs: the same process (same start time), or, once
 * it is gone, members of its group. A pid now held by another process means its group is gone too:
 * Linux does not hand out a pid still in use as a process group id.
 */
export function stillRunning(child: ChildRecord): boolean {
  const now = statOf(child.pid);
  if (now && child.startTime && now.startTime !== child.startTime) return false;
  if (now && now.state !== 'Z') return true;
  return groupMembers(child.pid).length > 0;
}

const signalGroup = (pgid: number, signal: NodeJS.Signals) => {
  try {
    process.kill(-pgid, signal);
  } catch {
    // gone meanwhile
  }
};

async function waitGone(children: ChildRecord[], ms: number): Promise<ChildRecord[]> {
  const until = Date.now() + ms;
  let left = children.filter(stillRunning);
  while (left.length && Date.now() < until) {
    await sleep(100);
    left = left.filter(stillRunning);
  }
  return left;
}

/** After SIGTERM to a group, SIGKILL when it has not ended this much later. */
const KILL_GRACE_MS = 5000;

/**
 * Before a resume acts: the commands its crashed run left running end first, by waiting up to
 * `waitMs` (else the resume is refused, nothing started) or by stopping their process groups.
 */
export async function settleOrphans(
  children: ChildRecord[],
  o: { policy: OrphanPolicy; waitMs: number; warn(message: string): void },
): Promise<void> {
  const running = children.filter(stillRunning);
  if (!running.length) return;
  const which = running.map((c) => `step ${c.stepId} (pid ${c.pid})`).join(', ');
  if (o.policy === 'kill') {
    o.warn(`the interrupted run's ${which} is still running: stopping its process group`);
    for (const c of running) signalGroup(c.pid, 'SIGTERM');
    for (const c of await waitGone(running, KILL_GRACE_MS)) signalGroup(c.pid, 'SIGKILL');
    const left = await waitGone(running, KILL_GRACE_MS);
    if (left.length) throw new UserError(`${which} survived SIGKILL; resume refused, nothing was started`);
    return;
  }
  o.warn(
    `the interrupted run's ${which} is still running: waiting up to ${formatDuration(o.waitMs)} for it to end`,
  );
  if ((await waitGone(running, o.waitMs)).length)
    throw new UserError(
      `the interrupted run's ${which} is still running after ${formatDuration(o.waitMs)}; resume refused, ` +
        `nothing was started: wait for it to end, or resume with --orphans kill to stop it`,
    );
}
