// Secret values known to a run, replaced by *** in everything the run emits. Registered as soon as
// they are resolved, before any event that could carry them is emitted.
import { REDACTED } from '../runbook/plan.js';

export class Redactor {
  private secrets: string[] = [];

  add(value: string): void {
    if (!value || this.secrets.includes(value)) return;
    // Longest first, so a secret that contains another is replaced whole.
    this.secrets = [...this.secrets, value].sort((a, b) => b.length - a.length);
  }

  get size(): number {
    return this.secrets.length;
  }

  /** A copy of `value` with every secret in every string replaced (keys included). */
  redact<T>(value: T): T {
    return this.secrets.length ? (this.walk(value) as T) : value;
  }

  redactString(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
    return out;
  }

  private walk(value: unknown): unknown {
    if (typeof value === 'string') return this.redactString(value);
    if (Array.isArray(value)) return value.map((v) => this.walk(v));
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[this.redactString(k)] = this.walk(v);
      return out;
    }
    return value;
  }
}
