// A journal's event lines, checked against the events schema when a journal is read (resume,
// report): a line that does not match is one clear error, never a crash later in a reader. Checked
// on read, not on emit, so the runner's hot path pays nothing.
import type { ErrorObject } from 'ajv';
import { UserError } from '../errors.js';
import { RunEvent } from '../schema/events.js';
import { validatorFor } from '../runbook/validators.js';

/** The event types, each a branch of the schema's union. */
const types = new Set(RunEvent.anyOf.map((branch) => branch.properties.type.const as string));

/**
 * Checks one event line of the journal of run `runId`; `where` is `file:line`. Events written before
 * every event carried its run id get the header's: those journals still resume and report. With
 * `check` false (the run's own journal, read back by the process that wrote it) the schema is not
 * loaded: its validator is most of what reading costs in memory.
 */
export function journalEvent(record: unknown, runId: string, where: string, check = true): RunEvent {
  if (typeof record !== 'object' || record === null || Array.isArray(record))
    throw new UserError(`${where}: not a run event (a JSON object expected)`);
  const event = record as Record<string, unknown>;
  const type = String(event.type);
  if (!types.has(type)) throw new UserError(`${where}: unknown run event type ${JSON.stringify(event.type)}`);
  event.runId ??= runId;
  if (event.runId !== runId)
    throw new UserError(`${where}: an event of run ${String(event.runId)} in the journal of run ${runId}`);
  if (!check) return event as RunEvent;
  const validate = validatorFor('Events');
  if (!validate(event)) throw new UserError(`${where}: ${type} event: ${firstProblem(validate.errors)}`);
  return event as RunEvent;
}

/** The first error: the validator checks only the event's own branch (see validators.ts). */
function firstProblem(errors: ErrorObject[] | null | undefined): string {
  const own = errors?.[0];
  if (!own) return 'does not match the events schema';
  const at = own.instancePath ? `${own.instancePath.slice(1).replaceAll('/', '.')} ` : '';
  const extra = own.keyword === 'additionalProperties' ? ` (${String(own.params.additionalProperty)})` : '';
  return `${at}${own.message ?? 'is invalid'}${extra}`;
}
