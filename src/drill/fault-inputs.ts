// The inputs a drill gives its runbook may use the environment (`${{ env.backups.store }}`) and
// what the fault recorded (`${{ fault.time }}`, the instant of an accidental DELETE). The first are
// rendered before the run starts; the second only once the fault struck.
import type { EnvContext } from '../actions/types.js';
import { findExpressions, parseSite, references, renderString } from '../runbook/expressions.js';
import { resolveInputs, type InputValues } from '../runbook/inputs.js';
import type { Runbook } from '../runbook/schema.js';

type Given = Record<string, string | number | boolean>;
type Facts = Record<string, string | number>;

const usesFault = (value: unknown): value is string =>
  typeof value === 'string' &&
  findExpressions(value).some((site) => references(parseSite(site)).some((path) => path[0] === 'fault'));

const renderAll = (given: Given, ctx: Record<string, unknown>, pick: (v: unknown) => boolean): Given =>
  Object.fromEntries(
    Object.entries(given).map(([k, v]) => [
      k,
      typeof v === 'string' && pick(v) ? (renderString(v, ctx) as string) : v,
    ]),
  );

/**
 * The inputs before the fault: expressions over `env` rendered; those over `fault` hold a stand-in
 * of their type (the text itself, 0, false) until the fault struck, so that the run can be prepared.
 */
export function inputsBeforeFault(runbook: Runbook, given: Given, env: EnvContext): Given {
  const rendered = renderAll(given, { env }, (v) => !usesFault(v));
  for (const [name, value] of Object.entries(rendered)) {
    if (!usesFault(value)) continue;
    const type = runbook.inputs?.[name]?.type;
    if (type === 'number') rendered[name] = 0;
    else if (type === 'boolean') rendered[name] = false;
  }
  return rendered;
}

/** All the runbook's inputs again with the fault's facts rendered in; undefined when none uses them. */
export function inputsAfterFault(
  runbook: Runbook,
  given: Given,
  env: EnvContext,
  facts: Facts,
): InputValues | undefined {
  if (!Object.values(given).some(usesFault)) return undefined;
  return resolveInputs(
    runbook.inputs,
    renderAll(given, { env, fault: facts }, () => true),
  );
}
