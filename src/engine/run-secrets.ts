// Every secret a run may come across, registered with its redactor before anything runs: the
// runbook's secrets.NAME, every DRILLBOOK_SECRET_* variable (named or not, a shell step could still
// print it), and every credential the chosen environment references, used by this runbook or not.
import type { EnvContext } from '../actions/types.js';
import { environmentSecretRefs, resolveSecretRef } from '../connectors/secrets.js';
import { SECRET_ENV_PREFIX } from '../system/child-env.js';
import type { Redactor } from '../connectors/redact.js';

/** Throws a UserError for a secret too short to redact (naming it, never showing it). */
export async function registerRunSecrets(
  redactor: Redactor,
  env: EnvContext,
  named: Record<string, string>,
): Promise<void> {
  for (const [name, value] of Object.entries(named)) redactor.add(value, SECRET_ENV_PREFIX + name);
  for (const [name, value] of Object.entries(process.env))
    if (name.startsWith(SECRET_ENV_PREFIX) && value !== undefined) redactor.add(value, name);
  for (const ref of environmentSecretRefs(env)) {
    // One that cannot be read now is not registered: a step that needs it fails on its own error.
    const value = await resolveSecretRef(ref).catch(() => undefined);
    if (value !== undefined) redactor.add(value, ref);
  }
}
