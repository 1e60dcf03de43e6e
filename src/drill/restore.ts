// After the measurement, the restore runbook (failback) returns the environment to its steady
// state. It is a run of its own (own id, journal, reports and Slack thread: a standard session)
// under the drill's lock and signals.
import type { Output } from '../system/output.js';
import { standardSession } from '../compose/session.js';
import { newRun } from '../engine/new-run.js';
import type { RunResult } from '../engine/run-spec.js';
import { exitCodeOf } from '../engine/session.js';
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
  /** Where the restore's reports go (default reports/, as the drill's). */
  reportsDir?: string;
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
    let result: RunResult | undefined;
    // Unattended like its drill: approvals are granted. Its lines stay plain beside the drill's view.
    await standardSession(
      spec,
      {
        stateDir: o.stateDir,
        json: o.json,
        live: false,
        yes: true,
        header,
        nested: true,
        reportsDir: o.reportsDir,
        around: async (w) => exitCodeOf((result = await w.execute())),
      },
      o.io,
    );
    if (result?.status === 'succeeded') return { status: 'succeeded', runId, manualSteps: [] };
    const failed = prepared.runbook.steps.findIndex((s) => s.id === result?.failedStep);
    return {
      status: 'failed',
      runId,
      error: result?.error?.message ?? result?.status ?? 'the restore did not run',
      manualSteps: manualSteps(prepared.runbook.steps.slice(Math.max(0, failed)), o),
    };
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
