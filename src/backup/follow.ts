// Extracting a tar.gz while pg_basebackup still writes it. PostgreSQL 15's pg_verifybackup reads only
// plain directories, so a tar backup must be extracted before it can be checked; doing that after
// pg_basebackup ends would double the backup's wall time. pg_basebackup writes base.tar.gz front to
// back (one gzip stream, never rewritten), so we read the growing file from its start, feed each
// byte once to `tar -xz` and to a SHA-256, and after the writer exits read on to the end.
// (pg_wal.tar.gz is NOT written that way: its tar headers are patched in place, so it is extracted
// after the end, like any finished file.)
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { StepFailure, errorMessage } from '../errors.js';

/**
 * How often a read that found no new bytes is retried while the writer runs: pg_basebackup -z
 * writes a few MB/s, so 50 ms makes reads of a useful size, and the end is noticed soon enough.
 */
const POLL_MS = 50;
const CHUNK = 1 << 20;

export interface Followed {
  /** Bytes read: the file's whole size once the writer ended. */
  size: number;
  /** SHA-256 (hex) of exactly the bytes that were extracted. */
  sha256: string;
}

/**
 * Extracts the tar.gz `file` into `dir` (which must exist) while a writer produces it; the writer
 * is done when `writerDone` settles (resolved or rejected: its failure is the caller's to report).
 * A file that is already complete is read straight through.
 */
export async function extractWhileWritten(
  file: string,
  writerDone: Promise<unknown>,
  dir: string,
  signal: AbortSignal,
): Promise<Followed> {
  let writerEnded = false;
  void writerDone.then(
    () => (writerEnded = true),
    () => (writerEnded = true),
  );
  const hash = createHash('sha256');
  let size = 0;
  async function* bytes() {
    const handle = await openWhenThere(file, () => writerEnded, signal);
    if (!handle) return;
    try {
      const buffer = Buffer.allocUnsafe(CHUNK);
      for (;;) {
        // Noted before the read: a read that finds nothing after the writer ended is the true end.
        const ended = writerEnded;
        const { bytesRead } = await handle.read(buffer, 0, CHUNK, size);
        if (bytesRead > 0) {
          const chunk = Buffer.from(buffer.subarray(0, bytesRead));
          hash.update(chunk);
          size += bytesRead;
          yield chunk;
        } else if (ended) {
          return;
        } else {
          await sleep(POLL_MS, undefined, { signal });
        }
      }
    } finally {
      await handle.close();
    }
  }
  const tar = spawn('tar', ['-xzf', '-', '-C', dir], { stdio: ['pipe', 'ignore', 'pipe'], signal });
  let stderr = '';
  tar.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    tar.on('error', reject);
    tar.on('close', resolve);
  });
  const [fed, code] = await Promise.allSettled([pipeline(bytes(), tar.stdin), exited]);
  if (signal.aborted) throw signal.reason;
  const readFailure = () =>
    new StepFailure(`cannot read ${file}: ${errorMessage((fed as PromiseRejectedResult).reason)}`);
  // A read error ends tar's input early, and tar then complains of a truncated archive: the read
  // error is the cause. A broken pipe, on the other hand, means tar stopped first: tar tells why.
  if (fed.status === 'rejected' && (fed.reason as NodeJS.ErrnoException).code !== 'EPIPE')
    throw readFailure();
  if (code.status === 'rejected' || code.value !== 0) {
    const why =
      code.status === 'rejected' ? errorMessage(code.reason) : stderr.trim().split('\n').join(' / ');
    throw new StepFailure(
      `cannot extract ${file}: ${why || `tar exited with ${String(code.status === 'fulfilled' && code.value)}`}`,
    );
  }
  if (fed.status === 'rejected') throw readFailure();
  return { size, sha256: hash.digest('hex') };
}

/** Opens the file once the writer has created it; undefined when the writer ended without it. */
async function openWhenThere(
  file: string,
  writerEnded: () => boolean,
  signal: AbortSignal,
): Promise<FileHandle | undefined> {
  for (;;) {
    const ended = writerEnded();
    try {
      return await open(file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (ended) return undefined;
      await sleep(POLL_MS, undefined, { signal });
    }
  }
}
