// The CLI in-process, as a user meets it: exit code and what it printed on each stream.
import { main } from '../../src/cli/main.js';

export async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'drillbook', ...args], {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
  });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}
