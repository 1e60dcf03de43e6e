// Secret values behind inventory references (`env:NAME`, `file:PATH`) and runbook expressions
// (`secrets.NAME`). Every value resolved here must be registered with the run's redactor by the caller.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { UserError } from '../errors.js';

/** `secrets.NAME` in an expression reads this environment variable: DRILLBOOK_SECRET_NAME. */
export const SECRET_ENV_PREFIX = 'DRILLBOOK_SECRET_';

/** `~` and `~/x` expand to the home directory, as a shell would. */
export const expandHome = (path: string) =>
  path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;

/** The value of a secret reference; a file's trailing newline is not part of the secret. */
export async function resolveSecretRef(ref: string): Promise<string> {
  if (ref.startsWith('env:')) {
    const name = ref.slice('env:'.length);
    const value = process.env[name];
    if (value === undefined) throw new UserError(`secret ${ref}: environment variable ${name} is not set`);
    return value;
  }
  if (ref.startsWith('file:')) {
    const path = expandHome(ref.slice('file:'.length));
    try {
      return (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
    } catch (err) {
      throw new UserError(`secret ${ref}: cannot read ${path}: ${(err as Error).message}`);
    }
  }
  throw new UserError(`not a secret reference: "${ref}" (expected env:NAME or file:PATH)`);
}

/** The values of `secrets.NAME` for the names a runbook reads; a missing one is bad input. */
export function namedSecrets(names: Iterable<string>): Record<string, string> {
  const out: Record<string, string> = {};
  const missing: string[] = [];
  for (const name of names) {
    const value = process.env[SECRET_ENV_PREFIX + name];
    if (value === undefined) missing.push(SECRET_ENV_PREFIX + name);
    else out[name] = value;
  }
  if (missing.length)
    throw new UserError(`the runbook reads secrets that are not set: export ${missing.join(', ')}`);
  return out;
}
