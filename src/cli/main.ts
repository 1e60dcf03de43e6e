// The drillbook command line: thin wiring of commands over the library, and the one place where
// errors become exit codes.
import { Command, CommanderError } from '@commander-js/extra-typings';
import { describeError, ExitCode, exitCodeFor } from '../errors.js';
import { registerActions } from './commands/actions.js';
import { registerDiverge } from './commands/diverge.js';
import { registerDrill } from './commands/drill.js';
import { registerDaemon } from './commands/daemon.js';
import { registerLab } from './commands/lab.js';
import { registerPlan } from './commands/plan.js';
import { registerReport } from './commands/report.js';
import { registerResume } from './commands/resume.js';
import { registerRun } from './commands/run.js';
import { registerSchedule } from './commands/schedule.js';
import { registerServe } from './commands/serve.js';
import { registerValidate } from './commands/validate.js';
import { processOutput, type Output } from '../system/output.js';

export function buildProgram(io: Output, done: (code: number) => void): Command {
  const program = new Command()
    .name('drillbook')
    .description('Runbook automation and chaos drills for PostgreSQL high availability and disaster recovery')
    .version('0.1.0')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  registerValidate(program, io, done);
  registerPlan(program, io, done);
  registerRun(program, io, done);
  registerResume(program, io, done);
  registerReport(program, io, done);
  registerLab(program);
  registerSchedule(program, io, done);
  registerDaemon(program, io, done);
  registerServe(program, io, done);
  registerDrill(program, io, done);
  registerDiverge(program, io, done);
  registerActions(program, io, done);
  return program;
}

export async function main(argv: string[], io: Output = processOutput): Promise<number> {
  let code: number = ExitCode.ok;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; every other parse error is bad input and was already printed.
      return err.exitCode === 0 ? ExitCode.ok : ExitCode.badInput;
    }
    io.err(describeError(err));
    return exitCodeFor(err);
  }
}
