// One Ajv set-up for every schema drillbook checks (documents, `with:` blocks, action outputs).
import { createRequire } from 'node:module';
import type { Ajv as AjvType, Options } from 'ajv';

const require = createRequire(import.meta.url);

export function createAjv(extra: Options = {}): AjvType {
  // Loaded lazily with require: the prebuilt path never pays for Ajv itself.
  const { Ajv } = require('ajv') as typeof import('ajv');
  const addFormats = require('ajv-formats') as (a: AjvType) => AjvType;
  return addFormats(
    new Ajv({ allErrors: true, verbose: true, strict: false, discriminator: true, ...extra }),
  );
}
