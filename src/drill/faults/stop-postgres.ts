// stop-postgres: an immediate shutdown (SIGQUIT of the postmaster, as `pg_ctl stop -m immediate`):
// an abrupt stop, as an operator or an OOM kill would.
import { stopPostmasterScript } from '../../connectors/postmaster.js';
import { StepFailure } from '../../errors.js';
import { dataDirOf, mustRun, withNodeShell } from './node-shell.js';
import type { Fault } from './types.js';

export const stopPostgres: Fault = {
  kind: 'stop-postgres',
  timed: false,
  inject: (ctx) =>
    withNodeShell(ctx, async (shell) => {
      const r = await mustRun(
        shell,
        stopPostmasterScript(dataDirOf(ctx.env, ctx.node), 'immediate'),
        `immediate shutdown of ${ctx.node}`,
      );
      if (r.stdout.trim() !== 'stopped') throw new StepFailure(`stop-postgres: ${ctx.node} was not running`);
      const at = performance.now();
      ctx.log(`stopped ${ctx.node} with an immediate shutdown via ${shell.where}`);
      return { at };
    }),
  revert: async () => 'nothing to undo: the restore runbook rejoins the stopped node',
};
