// The journal: one JSON object per line, append-only. A header line, then every (redacted) event.
// Written synchronously as events happen, and flushed to disk (fdatasync) at step boundaries: before
// any step starts acting, everything before it is durable, so a resume never guesses.
import {
  closeSync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  linkSync,
  openSync,
  readFileSync,
  readSync,
  truncateSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
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
  /** What started the run when no person typed it: the alert `drillbook serve` received. */
  trigger?: RunTrigger;
}

export interface RunTrigger {
  kind: 'alert';
  /** The trigger of the triggers file that matched. */
  name: string;
  alertname?: string;
  fingerprint: string;
  startsAt: string;
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
}

/** One line naming what started a run: the journal, the report and the Slack thread say the same. */
export const describeTrigger = (t: RunTrigger) =>
  `alert ${t.alertname ?? '(no alertname)'} ${t.status} since ${t.startsAt} (fingerprint ${t.fingerprint}, trigger ${t.name})`;

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
    if (header) createWithHeader(path, header);
    else dropTornTail(path);
    fd = openSync(path, 'a', 0o600);
  } catch (err) {
    if (err instanceof UserError) throw err;
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
  let header: JournalHeader | undefined;
  const events: RunEvent[] = [];
  scanJournal(
    path,
    (h) => (header = h),
    (e) => events.push(e),
  );
  return { header: header!, events };
}

/**
 * readJournal one event at a time: the file is read in blocks and each event handed on as it is
 * checked, so a long run's journal (megabytes) is never in memory whole (the report folds it so).
 * `check: false` skips the schema for a journal this process wrote itself (see journalEvent).
 */
export function scanJournal(
  path: string,
  onHeader: (header: JournalHeader) => void,
  onEvent: (event: RunEvent) => void,
  { check = true }: { check?: boolean } = {},
): void {
  let runId: string | undefined;
  for (const { text, n, torn } of lines(path)) {
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch {
      if (torn) break; // no trailing newline: the write never finished
      throw new UserError(`${path}:${n}: damaged journal line`);
    }
    if (runId === undefined) {
      const header = record as JournalHeader | undefined;
      if (header?.type !== 'journal' || header.version !== JOURNAL_VERSION) break;
      runId = header.runId;
      onHeader(header);
    } else onEvent(journalEvent(record, runId, `${path}:${n}`, check));
  }
  if (runId === undefined)
    throw new UserError(`${path}: not a drillbook journal (version ${JOURNAL_VERSION})`);
}

/**
 * A new journal appears with its header or not at all: the header is written and flushed to a file
 * of its own, which is then linked into place (a kill between the two leaves no journal without a
 * header, which resume could not read). The link fails when the run already exists.
 */
function createWithHeader(path: string, header: JournalHeader): void {
  const fresh = `${path}.${process.pid}.new`;
  const fd = openSync(fresh, 'wx', 0o600);
  try {
    try {
      const line = JSON.stringify(header) + '\n';
      if (writeSync(fd, line) !== Buffer.byteLength(line))
        throw new Error('short write (no space left on device?)');
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
    linkSync(fresh, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new UserError(`run ${header.runId} already exists: ${path}`);
    throw err;
  } finally {
    unlinkSync(fresh);
  }
}

const BLOCK_BYTES = 64 * 1024;

/** The file's non-empty lines with their numbers; `torn`: the last, with no newline after it. */
function* lines(path: string): Generator<{ text: string; n: number; torn: boolean }> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new UserError(`no such run: ${path} does not exist`);
    throw err;
  }
  try {
    const block = Buffer.alloc(BLOCK_BYTES);
    const decoder = new StringDecoder('utf8');
    let rest = '';
    let n = 0;
    for (let got; (got = readSync(fd, block, 0, BLOCK_BYTES, null)) > 0;) {
      const texts = (rest + decoder.write(block.subarray(0, got))).split('\n');
      rest = texts.pop()!;
      for (const text of texts) {
        n++;
        if (text) yield { text, n, torn: false };
      }
    }
    rest += decoder.end();
    if (rest) yield { text: rest, n: n + 1, torn: true };
  } finally {
    closeSync(fd);
  }
}
