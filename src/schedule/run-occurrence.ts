// One occurrence the daemon decided to run: the drill runs through `drillbook drill`'s code path,
// its output and its outcome become log lines of its drill.
import { errorMessage, UserError } from '../errors.js';
import type { Output } from '../system/output.js';
import type { Outcome } from './claims.js';
import type { DaemonOptions, ScheduledDrill } from './daemon.js';

/** Runs the drill and logs its outcome; never throws. */
export async function runOccurrence(
  o: Pick<DaemonOptions, 'runDrill' | 'inventoryFile' | 'stateDir' | 'repair' | 'log'>,
  d: ScheduledDrill,
  at: Record<string, unknown>,
  signal: AbortSignal,
): Promise<Outcome> {
  const { log } = o;
  try {
    const r = await o.runDrill(
      { drillFile: d.file, inventoryFile: o.inventoryFile, stateDir: o.stateDir, signal, repair: o.repair },
      drillOutput(o, d),
    );
    log({
      ...at,
      event: 'done',
      message: `${r.verdict} (run ${r.runId}${r.reportDir ? `, report ${r.reportDir}` : ''})`,
      verdict: r.verdict,
      runId: r.runId,
      reportDir: r.reportDir,
    });
    return { verdict: r.verdict, runId: r.runId };
  } catch (err) {
    // Bad input (an engine lock held by another run, a missing file) refuses the drill; the rest is unexpected.
    const outcome: Outcome = {
      verdict: err instanceof UserError ? 'refused' : 'error',
      detail: errorMessage(err),
    };
    log({
      ...at,
      event: err instanceof UserError ? 'skip' : 'error',
      message: `${outcome.verdict}: ${outcome.detail}`,
      reason: outcome.verdict,
    });
    return outcome;
  }
}

/** The drill's own output, as log lines of its drill. */
function drillOutput(o: Pick<DaemonOptions, 'log'>, d: ScheduledDrill): Output {
  const emit = (stream: 'out' | 'err') => (text: string) => {
    for (const line of text.replace(/\n$/, '').split('\n'))
      o.log({ event: 'output', drill: d.name, message: line, stream });
  };
  return { out: emit('out'), err: emit('err') };
}
