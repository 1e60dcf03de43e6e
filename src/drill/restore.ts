// After the measurement, the restore runbook (failback) returns the environment to its steady
// state. It runs as a run of its own (own id and journal) under the drill's lock.
import type { Output } from '../system/output.js';
import { newRun } from '../engine/commands.js';
import { RunEmitter } from '../engine/events.js';
import { openJournal } from '../engine/journal.js';
import { journalPath } from '../system/run-paths.js';
import { executeRun } from '../engine/runner.js';
import { jsonView, plainView } from '../engine/views/plain.js';
import { errorMessage } from '../errors.js';
import { prepareRun } from '../runbook/prepare.js';

export interface RestoreOutcome {
  status: 'succeeded' | 'failed';
  runId?: string;
  error?: string;
  /** What a person must do by hand when the restore failed. */
  manualSteps: string[];
}

export async function runRestore(o: {
  restoreFile: string;
  inventoryFile: string;
  envName: string;
  /** Inputs the restore runbook declares and the drill knows (e.g. `current`, the primary now). */
  inputs: Record<string, string>;
  stateDir: string;
  json?: boolean;
  io: Output;
  secret(ref: string): Promise<string>;
}): Promise<RestoreOutcome> {
  let runId: string | undefined;
  try {
    const prepared = prepareRun({
      runbookFile: o.restoreFile,
      inventoryFile: o.inventoryFile,
      envName: o.envName,
      inputs: o.inputs,
    });
    const { spec, header } = newRun(prepared, o.restoreFile);
    runId = spec.runId;
    const emitter = new RunEmitter(spec.runId);
    const journal = openJournal(journalPath(o.stateDir, spec.runId), header);
    emitter.subscribe(journal.subscriber);
    emitter.subscribe(o.json ? jsonView(o.io.out) : plainView(o.io.out));
    try {
      const result = await executeRun(spec, {
        emitter,
        approvals: { all: true, steps: new Set() },
        resolveSecret: o.secret,
      });
      if (result.status === 'succeeded') return { status: 'succeeded', runId, manualSteps: [] };
      const failed = prepared.runbook.steps.findIndex((s) => s.id === result.failedStep);
      return {
        status: 'failed',
        runId,
        error: result.error?.message ?? result.status,
        manualSteps: manualSteps(prepared.runbook.steps.slice(Math.max(0, failed)), o),
      };
    } finally {
      journal.close();
    }
  } catch (err) {
    return { status: 'failed', runId, error: errorMessage(err), manualSteps: manualSteps([], o) };
  }
}

function manualSteps(
  remaining: { id: string; name?: string; onFailure?: string }[],
  o: { restoreFile: string; envName: string; inventoryFile: string },
): string[] {
  return [
    `drillbook lab status (or inspect every node): find the current primary and which nodes stream from it`,
    ...remaining.map(
      (s) =>
        `finish step "${s.id}"${s.name ? ` (${s.name})` : ''} by hand${s.onFailure ? `: ${s.onFailure}` : ''}`,
    ),
    `then run the restore again: drillbook run ${o.restoreFile} --env ${o.envName} --inventory ${o.inventoryFile}`,
    `the next drill on ${o.envName} starts only once its steady-state check passes`,
  ];
}
