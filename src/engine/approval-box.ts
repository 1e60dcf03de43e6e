// Approvals answered from outside the run's process: a pending approval is a file in the run's
// directory, and the first answer (a Slack click through `drillbook serve`, or `drillbook approve`)
// is a file created exclusively beside it — so an approval id is single-use and a replayed click or
// a second answer changes nothing. The waiting run polls for that file.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { privateDir, runDir } from '../system/run-paths.js';
import { createExclusive } from './lock.js';
import type { AskApproval } from './approvals.js';

export interface PendingApproval {
  /** Unguessable, single-use: what a Slack button carries. */
  id: string;
  runId: string;
  stepId: string;
  environment: string;
  message: string;
  /** Who started the run: with four eyes, not who may approve it. */
  requester: string;
  fourEyes: boolean;
  requestedAt: string;
}

export interface ApprovalDecision {
  approved: boolean;
  /** Who answered: a Slack user id or an operator user@host. */
  by: string;
  /** How: `slack` or `drillbook approve`. */
  via: string;
  reason?: string;
  decidedAt: string;
}

const dirOf = (stateDir: string, runId: string) => join(runDir(stateDir, runId), 'approvals');
const pendingFile = (stateDir: string, runId: string, stepId: string) =>
  join(dirOf(stateDir, runId), `${encodeURIComponent(stepId)}.pending.json`);
const answerFile = (stateDir: string, runId: string, stepId: string) =>
  join(dirOf(stateDir, runId), `${encodeURIComponent(stepId)}.answer.json`);

const readJson = <T>(path: string): T | undefined => {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
};

export const pendingApproval = (stateDir: string, runId: string, stepId: string) =>
  readJson<PendingApproval>(pendingFile(stateDir, runId, stepId));

/** Every pending approval of a run (what `drillbook approve` and the Slack handler look up). */
export function pendingApprovals(stateDir: string, runId: string): PendingApproval[] {
  let names: string[];
  try {
    names = readdirSync(dirOf(stateDir, runId));
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.pending.json'))
    .flatMap((n) => readJson<PendingApproval>(join(dirOf(stateDir, runId), n)) ?? []);
}

export type AnswerOutcome =
  | { outcome: 'recorded'; pending: PendingApproval }
  | { outcome: 'already-answered'; decision?: ApprovalDecision }
  | { outcome: 'no-such-approval' }
  | { outcome: 'refused'; why: string };

/** Records the first answer; refuses the requester under four eyes. */
export function answerApproval(
  stateDir: string,
  runId: string,
  stepId: string,
  decision: Omit<ApprovalDecision, 'decidedAt'>,
  options: { id?: string } = {},
): AnswerOutcome {
  const pending = pendingApproval(stateDir, runId, stepId);
  if (!pending || (options.id !== undefined && options.id !== pending.id))
    return { outcome: 'no-such-approval' };
  const path = answerFile(stateDir, runId, stepId);
  if (existsSync(path)) return { outcome: 'already-answered', decision: readJson(path) };
  if (pending.fourEyes && decision.by === pending.requester)
    return {
      outcome: 'refused',
      why: `four eyes: ${decision.by} started the run and may not answer its approval`,
    };
  if (!createExclusive(path, { ...decision, decidedAt: new Date().toISOString() }))
    return { outcome: 'already-answered', decision: readJson(path) };
  return { outcome: 'recorded', pending };
}

export interface BoxAskOptions {
  stateDir: string;
  runId: string;
  environment: string;
  requester: string;
  fourEyes: boolean;
  /** Once the pending approval is on disk: tell people (the Slack buttons). */
  announce?(pending: PendingApproval): Promise<void>;
  /** How often the answer file is looked for. */
  pollMs?: number;
}

/** An AskApproval that waits for an answer file; the answer names who, how and why. */
export function boxAsk(o: BoxAskOptions): AskApproval {
  return async (request, signal) => {
    const pending: PendingApproval = {
      id: randomBytes(16).toString('hex'),
      runId: o.runId,
      stepId: request.stepId,
      environment: o.environment,
      message: request.message,
      requester: o.requester,
      fourEyes: o.fourEyes,
      requestedAt: new Date().toISOString(),
    };
    privateDir(dirOf(o.stateDir, o.runId));
    const answer = answerFile(o.stateDir, o.runId, request.stepId);
    // A resumed run asks again: an answer given before the crash still counts.
    if (!existsSync(answer)) {
      const path = pendingFile(o.stateDir, o.runId, request.stepId);
      // Written whole, then renamed: a reader never sees half a pending approval.
      createExclusive(`${path}.tmp-${pending.id}`, pending);
      renameSync(`${path}.tmp-${pending.id}`, path);
      await o.announce?.(pending);
    }
    for (;;) {
      const decision = readJson<ApprovalDecision>(answer);
      if (decision) {
        const how = `${decision.by} via ${decision.via}${decision.reason ? ` (${decision.reason})` : ''}`;
        return { approved: decision.approved, by: how };
      }
      if (signal.aborted) throw signal.reason as Error;
      await new Promise((r) => setTimeout(r, o.pollMs ?? 100));
    }
  };
}
