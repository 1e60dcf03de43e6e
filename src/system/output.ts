// Where command output goes. Commands write through these so tests can capture them.
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

/**
 * A reader that goes away (`--json | head -1`) must never stop a run midway (no rollback, a stale
 * lock): writes to a closed stdout or stderr are dropped and the run goes on to its journal and report.
 */
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

export const processOutput: Output = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};
