// PostgreSQL's programs on this machine (pg_basebackup, pg_verifybackup, pg_ctl, ...): found in a
// step's binDir, else where the lab finds them; run with an abort signal, as the unprivileged
// service user where the program refuses root (initdb, pg_ctl, postgres).
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { StepFailure, UserError, errorMessage } from '../errors.js';
import { findPgBinDir } from '../system/binaries.js';
import { run, type RunResult } from '../system/exec.js';
import type { OsUser } from '../system/os-user.js';

export interface PgTools {
  binDir: string;
  /** The program's path; bad input when binDir does not have it. */
  path(tool: string): string;
  run(tool: string, args: readonly string[], options?: ToolOptions): Promise<RunResult>;
}

export interface ToolOptions {
  as?: OsUser;
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** Names the work in the failure message ("pg_basebackup of pg1"). */
  what?: string;
}

export function pgTools(binDir: string | undefined, stepId: string, signal: AbortSignal): PgTools {
  const dir = binDir ?? findPgBinDir(undefined);
  const path = (tool: string) => {
    const file = join(dir, tool);
    try {
      accessSync(file, constants.X_OK);
    } catch {
      throw new UserError(
        `step ${stepId}: ${tool} not found in ${dir}${binDir ? ' (binDir)' : ''}; install PostgreSQL's client and server programs there or set binDir`,
      );
    }
    return file;
  };
  return {
    binDir: dir,
    path,
    async run(tool, args, options = {}) {
      try {
        return await run(path(tool), args, {
          as: options.as,
          env: options.env,
          input: options.input,
          signal,
        });
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        if (err instanceof UserError) throw err;
        // The lab's runner names its own step; this failure belongs to the running step.
        throw new StepFailure(`${options.what ?? tool} failed: ${errorMessage(err)}`, {
          retryable: false,
          cause: err,
        });
      }
    },
  };
}
