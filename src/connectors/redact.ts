// Secret values known to a run, replaced by *** in everything the run sends out of the process.
// Registered as soon as they are resolved, before any event or message that could carry them.
import { UserError } from '../errors.js';
import { resolveSecretRef } from './secrets.js';

/** What a secret becomes in everything shown or sent. */
export const REDACTED = '***';

/** Shorter values occur by chance in ordinary text (and are guessed easily): refused, not redacted. */
export const MIN_SECRET_LENGTH = 4;

/**
 * Says which values stay as they are, by path: keys joined with dots, `*` for an array position
 * (`type`, `steps.*.id`). A kept value is not descended into.
 */
export type Keep = (path: string) => boolean;

export class Redactor {
  private secrets: string[] = [];

  /**
   * Registers a secret with its base64, URL-encoded and JSON-escaped forms. `name` (env:NAME,
   * file:PATH, DRILLBOOK_SECRET_NAME) identifies it in the error for a value that is too short.
   */
  add(value: string, name: string): void {
    if (value.length < MIN_SECRET_LENGTH)
      throw new UserError(
        `secret ${name} is shorter than ${MIN_SECRET_LENGTH} characters: too short to redact reliably; use a longer value`,
      );
    const forms = encodedForms(value).filter((f) => !this.secrets.includes(f));
    // Longest first, so a secret that contains another is replaced whole.
    if (forms.length) this.secrets = [...this.secrets, ...forms].sort((a, b) => b.length - a.length);
  }

  /** The value behind a secret reference (env:NAME, file:PATH), registered before it is returned. */
  async resolve(ref: string, resolveRef = resolveSecretRef): Promise<string> {
    const value = await resolveRef(ref);
    this.add(value, ref);
    return value;
  }

  /** A copy of `value` with every secret replaced in its string values; keys are never changed. */
  redact<T>(value: T, keep?: Keep): T {
    return this.secrets.length ? (this.walk(value, '', keep) as T) : value;
  }

  redactString(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
    return out;
  }

  private walk(value: unknown, path: string, keep: Keep | undefined): unknown {
    if (path && keep?.(path)) return value;
    if (typeof value === 'string') return this.redactString(value);
    const under = (key: string) => (path ? `${path}.${key}` : key);
    if (Array.isArray(value)) return value.map((v) => this.walk(v, under('*'), keep));
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.walk(v, under(k), keep);
      return out;
    }
    return value;
  }
}

/** The forms a secret travels in: as is, base64 (and base64url), URL-encoded, inside a JSON string. */
function encodedForms(value: string): string[] {
  const padded = Buffer.from(value).toString('base64');
  // Unpadded too, as base64url and many encoders write it; the padded form, longer, goes first.
  const base64 = padded.replace(/=+$/, '');
  return [
    ...new Set([
      value,
      padded,
      base64,
      base64.replace(/\+/g, '-').replace(/\//g, '_'),
      encodeURIComponent(value),
      new URLSearchParams({ v: value }).toString().slice('v='.length),
      JSON.stringify(value).slice(1, -1),
    ]),
  ];
}
