// The journal: one JSON object per line, append-only. A header line, then every (redacted) event.
// Written synchronously as events happen, and flushed to disk (fdatasync) at step boundaries: before
// any step starts acting, everything before it is durable, so a resume never guesses.
import {
  closeSync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readFileSync,
  truncateSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { StepFailure, UserError, errorMessage } from '../errors.js';
import type { RunEvent, RunEventType, Subscriber } from './events.js';
import { journalEvent } from './journal-events.js';
import { privateDir } from '../system/run-paths.js';

/** The state directory could not be written (a full disk): one line, exit 1, the run resumable. */
export class StateWriteFailed extends StepFailure {
  override name = 'StateWriteFailed';
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(`cannot write ${path}: ${errorMessage(cause)}`, { cause });
  }
}

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
  'child-started',
  'rollback-started',
  'run-stopped',
  'run-finished',
]);

export interface JournalWriter {
  subscriber: Subscriber;
  close(): void;
}

/**
 * Opens a journal: a new one (with its header; refuses to overwrite) or an existing one to append
 * to. A write that fails (ENOSPC, EIO) is cut back to the last whole line, the journal stops
 * recording, and `onFailure` is told once: the caller stops the run before anything else acts.
 */
export function openJournal(
  path: string,
  header?: JournalHeader,
  onFailure: (error: StateWriteFailed) => void = (error) => {
    throw error;
  },
): JournalWriter {
  let fd: number;
  try {
    privateDir(dirname(path));
    if (!header) dropTornTail(path);
    fd = openSync(path, header ? 'ax' : 'a', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new UserError(`run ${header?.runId} already exists: ${path}`);
    throw new StateWriteFailed(path, err);
  }
  let good = fstatSync(fd).size;
  let open = true;
  const write = (record: object, sync: boolean) => {
    // Written as a string: no Buffer (memory outside the heap) per event.
    const line = JSON.stringify(record) + '\n';
    const bytes = Buffer.byteLength(line);
    // A short write is how a full disk shows first: the rest of the line would fail.
    if (writeSync(fd, line) !== bytes) throw new Error('short write (no space left on device?)');
    if (sync) fdatasyncSync(fd);
    good += bytes;
  };
  const fail = (err: unknown) => {
    open = false;
    try {
      ftruncateSync(fd, good); // a torn line would make a finished step look unfinished, or worse
      closeSync(fd);
    } catch {
      // the cut is best effort: a torn last line is ignored when read
    }
    onFailure(new StateWriteFailed(path, err));
  };
  if (header) {
    try {
      write(header, true);
    } catch (err) {
      closeSync(fd);
      unlinkSync(path); // without its header it is not a journal
      throw new StateWriteFailed(path, err);
    }
  }
  return {
    subscriber: (event) => {
      if (!open) return;
      try {
        write(event, SYNC_AFTER.has(event.type));
      } catch (err) {
        fail(err);
      }
    },
    close: () => {
      if (!open) return;
      open = false;
      try {
        fdatasyncSync(fd);
      } catch (err) {
        onFailure(new StateWriteFailed(path, err));
      } finally {
        closeSync(fd);
      }
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

/**
 * Reads a journal; a torn last line (the process died mid-write) is ignored, any other damage (a line
 * that is not JSON, an event that does not match the events schema) is an error naming the line.
 */
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
  const lineOf: number[] = []; // each record's line number, for errors
  lines.forEach((line, i) => {
    if (!line) return;
    try {
      records.push(JSON.parse(line));
      lineOf.push(i + 1);
    } catch {
      const torn = i === lines.length - 1; // no trailing newline: the write never finished
      if (!torn) throw new UserError(`${path}:${i + 1}: damaged journal line`);
    }
  });
  const [header, ...events] = records as [JournalHeader, ...unknown[]];
  if (header?.type !== 'journal' || header.version !== JOURNAL_VERSION)
    throw new UserError(`${path}: not a drillbook journal (version ${JOURNAL_VERSION})`);
  return { header, events: events.map((e, i) => journalEvent(e, header.runId, `${path}:${lineOf[i + 1]}`)) };
}
