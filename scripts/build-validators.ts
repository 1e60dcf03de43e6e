// Writes standalone validators for dist/ (see src/runbook/validators.ts for why).
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createAjv, schemaOf, validatorFile, validatorNames } from '../src/runbook/validators.js';

const require = createRequire(import.meta.url);
const standaloneCode = require('ajv/dist/standalone')
  .default as typeof import('ajv/dist/standalone/index.js').default;

// validatorFile() is relative to a module one level below dist/.
const base = new URL('../dist/runbook/', import.meta.url);
mkdirSync(new URL('../validators/', base), { recursive: true });
for (const name of validatorNames()) {
  const ajv = createAjv({ code: { source: true } });
  writeFileSync(new URL(validatorFile(name), base), standaloneCode(ajv, ajv.compile(schemaOf(name))));
}
