// A YAML file parsed with source positions, so every later error can point at file:line:col.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { CORE_SCHEMA, load as loadYaml } from 'js-yaml';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { UserError, type SourceLocation } from '../errors.js';

/** Larger files are refused before parsing: no runbook is anywhere near this. */
export const MAX_FILE_BYTES = 2 * 1024 * 1024;
/** Bounded alias expansion: an alias bomb fails fast instead of eating memory. */
export const MAX_ALIAS_COUNT = 100;

export type PathSegment = string | number;

export interface YamlSource {
  file: string;
  text: string;
  data: unknown;
  /** Where the value at `path` starts; with `key`, where its key starts (for unknown keys). */
  locate(path: readonly PathSegment[], key?: boolean): SourceLocation;
  /** Where character `index` of the string value at `path` is (for errors inside expressions). */
  locateIn(path: readonly PathSegment[], index: number): SourceLocation;
}

const YAML_MESSAGES: Record<string, string> = {
  DUPLICATE_KEY: 'duplicate key',
  TAB_AS_INDENT: 'tabs are not allowed as indentation; use spaces',
};

export function readSource(file: string): YamlSource {
  const buf = readCapped(file);
  const nul = buf.indexOf(0);
  if (nul >= 0)
    throw new UserError('not a text file (it contains NUL bytes)', at(file, ...lineColOf(buf, nul)));
  const text = buf.toString('utf8');
  // A valid prefix re-encodes byte for byte: the first difference is the first byte that is not UTF-8.
  const bad = Buffer.from(text, 'utf8').findIndex((b, i) => b !== buf[i]);
  if (bad >= 0 || Buffer.byteLength(text) !== buf.length) {
    const offset = bad >= 0 ? bad : Math.min(Buffer.byteLength(text), buf.length - 1);
    throw new UserError(
      `not UTF-8: byte 0x${buf[offset]!.toString(16).padStart(2, '0')} at offset ${offset} is not valid UTF-8`,
      at(file, ...lineColOf(buf, offset)),
    );
  }
  return parseSource(file, text);
}

/**
 * The file's bytes, read up to the limit (never trusting a size from stat: /dev/zero has none).
 * Opened without blocking so a FIFO cannot hang us; only a regular file is read.
 */
function readCapped(file: string): Buffer {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code})`}`);
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new UserError('is a directory, not a file', at(file, 1, 1));
    if (!stat.isFile()) throw new UserError('not a regular file (a device, FIFO or socket)', at(file, 1, 1));
    const buf = Buffer.alloc(MAX_FILE_BYTES + 1);
    let size = 0;
    for (let n; size < buf.length && (n = readSync(fd, buf, size, buf.length - size, null)) > 0;) size += n;
    if (size > MAX_FILE_BYTES)
      throw new UserError(`file is too large (more than ${MAX_FILE_BYTES} bytes)`, at(file, 1, 1));
    return buf.subarray(0, size);
  } finally {
    closeSync(fd);
  }
}

export function parseSource(file: string, text: string): YamlSource {
  const data = fastParse(text);
  if (data === undefined) return parseWithPositions(file, text);
  let full: YamlSource | undefined;
  const positions = () => (full ??= parseWithPositions(file, text));
  return {
    file,
    text,
    data,
    locate: (path, key) => positions().locate(path, key),
    locateIn: (path, index) => positions().locateIn(path, index),
  };
}

/**
 * Most files are valid, and js-yaml reads them about ten times faster than a parse that keeps
 * source positions; positions are worked out only when a message needs one. Anything unusual
 * (anchors and aliases, whose expansion only the full parse bounds; tabs; a parse error; an empty
 * document) takes the full parse, which also gives the located error.
 */
function fastParse(text: string): unknown {
  if (text.includes('\t')) return undefined;
  let anchors = false;
  try {
    const data = loadYaml(text, {
      schema: CORE_SCHEMA,
      listener: (_event, state: unknown) => {
        anchors ||= Object.keys((state as { anchorMap: object }).anchorMap).length > 0;
      },
    });
    return data === null || anchors ? undefined : data;
  } catch {
    return undefined;
  }
}

function parseWithPositions(file: string, text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  // An unknown tag (`!!js/function`, `!custom`) is only a warning to the yaml parser: here an error.
  const first = doc.errors[0] ?? doc.warnings.find((w) => w.code === 'TAG_RESOLVE_FAILED');
  if (first) {
    const pos = lineCounter.linePos(first.pos[0]);
    const why = YAML_MESSAGES[first.code] ?? `invalid YAML: ${first.message.replace(/ at line \d+.*$/s, '')}`;
    throw new UserError(why, at(file, pos.line, pos.col));
  }
  if (doc.contents === null) throw new UserError('the file is empty', at(file, 1, 1));

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    if (err instanceof ReferenceError) {
      throw new UserError(
        `too many alias expansions (more than ${MAX_ALIAS_COUNT}): refusing an alias bomb`,
        at(file, 1, 1),
      );
    }
    throw err;
  }

  const position = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return at(file, line, col);
  };

  const nodeAt = (path: readonly PathSegment[]) => {
    let node: unknown = doc.contents;
    let keyNode: unknown;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find(
          (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg),
        );
        if (!pair) break;
        keyNode = pair.key;
        node = pair.value ?? pair.key;
      } else if (isSeq(node) && typeof seg === 'number' && node.items[seg]) {
        keyNode = undefined;
        node = node.items[seg];
      } else break;
    }
    return { node: node as Node | undefined, keyNode: keyNode as Node | undefined };
  };

  return {
    file,
    text,
    data,
    locate(path, key = false) {
      const { node, keyNode } = nodeAt(path);
      const target = key && keyNode ? keyNode : node;
      return position(target?.range?.[0] ?? 0);
    },
    locateIn(path, index) {
      const { node } = nodeAt(path);
      if (!isScalar(node) || !node.range) return position(node?.range?.[0] ?? 0);
      // Plain scalars map one to one; quoted ones start after the quote (escapes are rare here).
      const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
      const single = node.type === 'PLAIN' || quoted;
      return position(node.range[0] + (single ? index + (quoted ? 1 : 0) : 0));
    },
  };
}

const at = (file: string, line: number, col: number): SourceLocation => ({ file, line, col });

function lineColOf(buf: Buffer, offset: number): [number, number] {
  let line = 1;
  let start = 0;
  for (let i = buf.indexOf(10); i >= 0 && i < offset; i = buf.indexOf(10, i + 1)) {
    line++;
    start = i + 1;
  }
  return [line, offset - start + 1];
}
