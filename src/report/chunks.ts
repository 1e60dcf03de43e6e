// A rendered file as a sequence of string pieces, produced as they are written. A long run's
// reports are megabytes: built as one string (and the nested template strings that make it), they
// raised the peak memory of `drillbook run` by tens of MB; in pieces, each is garbage at once.
import { closeSync, openSync, writeSync } from 'node:fs';

/** The pieces of one file, in order. */
export type Chunks = Iterable<string>;

/** A part of a file: a string, or pieces (a table of thousands of rows). */
export type Part = string | Chunks;

/** The parts with `separator` between them, like Array.join, without the whole string. */
export function* joined(parts: Iterable<Part>, separator: string): Generator<string> {
  let first = true;
  for (const part of parts) {
    if (!first) yield separator;
    first = false;
    if (typeof part === 'string') yield part;
    else yield* part;
  }
}

/** `f` over the items, lazily: the rows of a table exist one at a time. */
export function* mapped<T, U>(items: Iterable<T>, f: (item: T, i: number) => U): Generator<U> {
  let i = 0;
  for (const item of items) yield f(item, i++);
}

/** The whole text (tests, the history page, small files). */
export function whole(chunks: Chunks): string {
  let text = '';
  for (const piece of chunks) text += piece;
  return text;
}

/**
 * JSON.stringify(value, null, 2) in pieces: the objects and arrays of the first `depth` levels (a
 * report's steps) member by member, anything deeper at once. Plain data only (no toJSON).
 */
export function* jsonChunks(value: unknown, depth = 2, indent = ''): Generator<string> {
  if (depth === 0 || value === null || typeof value !== 'object') {
    // JSON strings hold no raw newline: every newline here starts a line to indent.
    yield JSON.stringify(value, null, 2).replaceAll('\n', `\n${indent}`);
    return;
  }
  const inner = `${indent}  `;
  const array = Array.isArray(value);
  const members: [string, unknown][] = array
    ? value.map((v: unknown) => ['', v === undefined || typeof v === 'function' ? null : v])
    : Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== 'function');
  const [open, close] = array ? ['[', ']'] : ['{', '}'];
  if (!members.length) {
    yield open + close;
    return;
  }
  for (const [i, [key, v]] of members.entries()) {
    yield `${i ? ',' : open}\n${inner}${array ? '' : `${JSON.stringify(key)}: `}`;
    yield* jsonChunks(v, depth - 1, inner);
  }
  yield `\n${indent}${close}`;
}

/** Bytes gathered before a write: few system calls, little memory. */
const WRITE_BYTES = 64 * 1024;

/** Writes the pieces to a new file `path` (mode 0600), in writes of about WRITE_BYTES. */
export function writeChunks(path: string, chunks: Chunks): void {
  const fd = openSync(path, 'w', 0o600);
  try {
    let pending = '';
    const flush = () => {
      const bytes = Buffer.from(pending, 'utf8');
      for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at);
      pending = '';
    };
    for (const piece of chunks) {
      pending += piece;
      if (pending.length >= WRITE_BYTES) flush();
    }
    flush();
  } finally {
    closeSync(fd);
  }
}
