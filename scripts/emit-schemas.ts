// Writes schemas/*.schema.json from the TypeBox definitions in src/schema.
import { writeFileSync } from 'node:fs';
import { reportSchemaJson } from '../src/report/schema.js';
import { eventsSchemaJson } from '../src/schema/events.js';
import { documentKinds, schemaFileName, schemaJson, type DocumentKind } from '../src/runbook/documents.js';

for (const kind of Object.keys(documentKinds) as DocumentKind[]) {
  writeFileSync(new URL(`../schemas/${schemaFileName(kind)}`, import.meta.url), schemaJson(kind));
}
// The report schema describes drillbook's output, not a document it loads: `validate` never sees it.
writeFileSync(new URL('../schemas/report.schema.json', import.meta.url), reportSchemaJson());
// Likewise the run events: what a journal and `--json` of run, resume and drill hold.
writeFileSync(new URL('../schemas/events.schema.json', import.meta.url), eventsSchemaJson());
