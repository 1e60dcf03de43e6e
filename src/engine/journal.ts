// The journal: one JSON object per line, append-only. A header line, then every (redacted) event.
// Written synchronously as events happen, and flushed to disk (fdatasync) at step boundaries: before
// any step starts acting, everything before it is durable, so a resume never guesses.
import {
  closeSync,
  fdatasyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { UserError } from '../errors.js';
import type { RunEvent, RunEventType, Subscriber } from './events.js';

export const JOURNAL_VERSION = 1;

export interface JournalHeader {
  type: 'journal';
  version: typeof JOURNAL_VERSION;
  runId: string;
  createdAt: string;
  runbook: { name: string; path: string; sha256: string };
  inventory: string;
  environment: { name: string; label: string };
  /** Resolved inputs, secrets redacted. */
  inputs: Record<string, unknown>;
  operator: string;
  pid: number;
}

/** Events after which the journal is flushed: the boundaries before anything acts, and the end. */
const SYNC_AFTER = new Set<RunEventType>([
  'run-started',
  'run-resumed',
  'step-started',
  'rollback-started',
  'run-finished',
]);

export interface JournalWriter {
  subscriber: Subscriber;
  close(): void;
}

/** Opens a journal: a new one (with its header; refuses to overwrite) or an existing one to append to. */
export function openJournal(path: string, header?: JournalHeader): JournalWriter {
  mkdirSync(dirname(path), { recursive: true });
  if (!header) dropTornTail(path);
  let fd: number;
  try {
    fd = openSync(path, header ? 'ax' : 'a', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new UserError(`run ${header?.runId} already exists: ${path}`);
    throw err;
  }
  const write = (record: object, sync: boolean) => {
    writeSync(fd, JSON.stringify(record) + '\n');
    if (sync) fdatasyncSync(fd);
  };
  if (header) write(header, true);
  let open = true;
  return {
    subscriber: (event) => {
      if (open) write(event, SYNC_AFTER.has(event.type));
    },
    close: () => {
      if (!open) return;
      open = false;
      fdatasyncSync(fd);
      closeSync(fd);
    },
  };
}

/** A line the dead process never finished is cut off, so appended events start on their own line. */
function dropTornTail(path: string): void {
  const text = readFileSync(path);
  const end = text.lastIndexOf(0x0a) + 1;
  if (end < text.length) truncateSync(path, end);
}

export interface Journal {
  header: JournalHeader;
  events: RunEvent[];
}

/** Reads a journal; a torn last line (the process died mid-write) is ignored, any other damage is an error. */
export function readJournal(path: string): Journal {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new UserError(`no such run: ${path} does not exist`);
    throw err;
  }
  const lines = text.split('\n');
  const records: unknown[] = [];
  lines.forEach((line, i) => {
    if (!line) return;
    try {
      records.push(JSON.parse(line));
    } catch {
      const torn = i === lines.length - 1; // no trailing newline: the write never finished
      if (!torn) throw new UserError(`${path}:${i + 1}: damaged journal line`);
    }
  });
  const [header, ...events] = records as [JournalHeader, ...RunEvent[]];
  if (header?.type !== 'journal' || header.version !== JOURNAL_VERSION)
    throw new UserError(`${path}: not a drillbook journal (version ${JOURNAL_VERSION})`);
  return { header, events };
}
