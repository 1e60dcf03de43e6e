// Checks a journal a real run wrote against the published schemas/events.schema.json (the file, not
// the TypeBox source), with a plain Ajv: what an outside reader of journals and `--json` would use.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createAjv } from '../../src/runbook/validators.js';

const validate = createAjv().compile(JSON.parse(readFileSync('schemas/events.schema.json', 'utf8')));

/** Every event line of the journal at `path` matches the schema and carries the header's run id. */
export function assertJournalMatchesSchema(path: string): void {
  const [header, ...events] = readFileSync(path, 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string; runId: string });
  assert.ok(events.length > 0, `${path}: no events`);
  for (const [i, event] of events.entries()) {
    assert.ok(
      validate(event),
      `${path}:${i + 2}: ${event.type}: ${JSON.stringify(validate.errors?.slice(0, 3))}`,
    );
    assert.equal(event.runId, header!.runId, `${path}:${i + 2}: run id`);
  }
}
