// Approvals asked on the terminal: y/N on stdin, for a run started by a person.
import { createInterface } from 'node:readline';
import type { AskApproval } from '../engine/approvals.js';

/** Reads y/N from the terminal; `prompt` is where the question is written (the live view shows it itself). */
export function ttyAsk(operator: string, prompt: NodeJS.WritableStream | undefined): AskApproval {
  return (request, signal) =>
    new Promise((resolve, reject) => {
      const rl = createInterface({ input: process.stdin, terminal: false });
      const finish = () => {
        signal.removeEventListener('abort', onAbort);
        rl.close();
      };
      const onAbort = () => {
        finish();
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      prompt?.write(`? ${request.stepId}: ${request.message} [y/N] `);
      rl.once('line', (line) => {
        finish();
        resolve({ approved: /^y(es)?$/i.test(line.trim()), by: operator });
      });
    });
}
