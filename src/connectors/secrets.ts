// Secret values behind inventory references (`env:NAME`, `file:PATH`) and runbook expressions
// (`secrets.NAME`). Every value resolved here must be registered with the run's redactor by the caller.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import type { TSchema } from '@sinclair/typebox';
import { UserError } from '../errors.js';
import { SecretRef } from '../schema/common.js';
import { Environment } from '../schema/inventory.js';
import { SECRET_ENV_PREFIX } from '../system/child-env.js';

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

/** Every secret reference in an inventory environment, found through its schema (SecretRef fields). */
export function environmentSecretRefs(env: Environment): Set<string> {
  const refs = new Set<string>();
  const visit = (schema: TSchema | undefined, value: unknown): void => {
    if (!schema || value === undefined || value === null) return;
    if (schema.anyOf) for (const branch of schema.anyOf as TSchema[]) visit(branch, value);
    else if (typeof value === 'string') {
      if (schema.pattern === SecretRef.pattern) refs.add(value);
    } else if (Array.isArray(value)) for (const item of value) visit(schema.items as TSchema, item);
    else if (typeof value === 'object') {
      // Type.Record gives patternProperties (one pattern per record here); Strict objects give properties.
      const record = Object.values((schema.patternProperties ?? {}) as Record<string, TSchema>)[0];
      for (const [key, item] of Object.entries(value))
        visit((schema.properties as Record<string, TSchema> | undefined)?.[key] ?? record, item);
    }
  };
  visit(Environment, env);
  return refs;
}
