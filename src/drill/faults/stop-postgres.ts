// stop-postgres: `pg_ctl stop -m immediate` — an abrupt stop, as an operator or an OOM kill would.
import { join } from 'node:path';
import { dataDirOf, mustRun, nodeOf, withNodeShell } from './node-shell.js';
import type { Fault } from './types.js';

export const stopPostgres: Fault = {
  kind: 'stop-postgres',
  timed: false,
  inject: (ctx) =>
    withNodeShell(ctx, async (shell) => {
      const node = nodeOf(ctx.env, ctx.node);
      const pgCtl = node.binDir ? join(node.binDir, 'pg_ctl') : 'pg_ctl';
      await mustRun(
        shell,
        `'${pgCtl}' stop -m immediate -D '${dataDirOf(ctx.env, ctx.node)}'`,
        `pg_ctl stop on ${ctx.node}`,
      );
      const at = performance.now();
      ctx.log(`stopped ${ctx.node} with pg_ctl stop -m immediate via ${shell.where}`);
      return { at };
    }),
  revert: async () => 'nothing to undo: the restore runbook rejoins the stopped node',
};
