// Writes schemas/*.schema.json from the TypeBox definitions in src/schema.
import { writeFileSync } from 'node:fs';
import { documentKinds, schemaFileName, schemaJson, type DocumentKind } from '../src/schema/documents.js';

for (const kind of Object.keys(documentKinds) as DocumentKind[]) {
  writeFileSync(new URL(`../schemas/${schemaFileName(kind)}`, import.meta.url), schemaJson(kind));
}
