// Extracting a tar (or tar.gz) while pg_basebackup still writes it. PostgreSQL 15's pg_verifybackup
// reads only plain directories, so a tar backup must be extracted before it can be checked; doing
// that after pg_basebackup ends would double the backup's wall time. pg_basebackup writes base.tar
// front to back (never rewritten), so we read the growing file from its start, feed each byte once
// to `tar -x` (and, for an uncompressed tar, to gzip: compressing here rather than in pg_basebackup
// saves decompressing it again to extract), hash what is kept, and after the writer exits read on to
// the end. (pg_wal.tar is NOT written that way: its tar headers are patched in place, so it is
// handled after the end, like any finished file.)
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { untar } from './integrity.js';
import { Transform, type Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { childEnv } from '../system/child-env.js';
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
  /** SHA-256 (hex) of the file kept: the bytes extracted, or with `gzipTo` the compressed ones. */
  sha256: string;
}

export const PLAIN_BASE_TAR = 'base.tar';
const PLAIN_WAL_TAR = 'pg_wal.tar';

/** gzip level 6, what `pg_basebackup -z` uses (zlib's default). */
const GZIP_LEVEL = 6;

/**
 * Extracts the tar.gz `file` into `dir` (which must exist) while a writer produces it; the writer
 * is done when `writerDone` settles (resolved or rejected: its failure is the caller's to report).
 * A file that is already complete is read straight through. With `gzipTo`, `file` is a plain tar,
 * compressed into `gzipTo` as it is read.
 */
export async function extractWhileWritten(
  file: string,
  writerDone: Promise<unknown>,
  dir: string,
  signal: AbortSignal,
  gzipTo?: string,
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
          if (!gzipTo) hash.update(chunk);
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
  // A plain tar may be padded past its end-of-archive blocks; tar must read to the end regardless,
  // or the bytes after it would never reach the gzip copy (--ignore-zeros reads on to EOF).
  const tar = spawn('tar', [...(gzipTo ? ['-x', '--ignore-zeros'] : ['-xz']), '-f', '-', '-C', dir], {
    stdio: ['pipe', 'ignore', 'pipe'],
    env: childEnv(),
    signal,
  });
  let stderr = '';
  tar.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    tar.on('error', reject);
    tar.on('close', resolve);
  });
  const compressed = gzipTo ? gzipInto(gzipTo, hash) : undefined;
  const fed = await Promise.allSettled([
    feed(bytes(), compressed ? [tar.stdin, compressed.input] : [tar.stdin]),
    compressed?.done,
  ]).then(([f, g]) => (f.status === 'rejected' ? f : g!));
  const [code] = await Promise.allSettled([exited]);
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

/** A gzip stream into `file`, hashing the compressed bytes as they are written. */
function gzipInto(file: string, hash: ReturnType<typeof createHash>) {
  const input = createGzip({ level: GZIP_LEVEL });
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  return { input, done: pipeline(input, hashing, createWriteStream(file)) };
}

/** Writes every chunk to each sink, waiting for the slowest (backpressure), then ends them. */
async function feed(source: AsyncIterable<Buffer>, sinks: Writable[]): Promise<void> {
  // finished() listens for errors from the start: a sink that fails between writes is reported.
  const ended = Promise.all(sinks.map((s) => finished(s)));
  ended.catch(() => undefined);
  for await (const chunk of source) {
    const broken = sinks.find((s) => s.destroyed);
    if (broken) break;
    await Promise.all(sinks.map((s) => (s.write(chunk) ? undefined : once(s, 'drain'))));
  }
  for (const s of sinks) s.end();
  await ended;
}

/**
 * After a local pg_basebackup into `rawDir` ended (base.tar already handled): the manifest moves to
 * `filesDir`, and pg_wal.tar (with -X stream) is compressed there and extracted into the data
 * directory's pg_wal/ side by side; then `rawDir` goes. Returns the SHA-256 of each file made.
 */
export async function packRest(
  rawDir: string,
  filesDir: string,
  dataDir: string,
  signal: AbortSignal,
): Promise<Record<string, string>> {
  const made: Record<string, string> = {};
  await rename(join(rawDir, 'backup_manifest'), join(filesDir, 'backup_manifest'));
  const wal = join(rawDir, PLAIN_WAL_TAR);
  if (existsSync(wal)) {
    const hash = createHash('sha256');
    const gz = gzipInto(join(filesDir, `${PLAIN_WAL_TAR}.gz`), hash);
    const walDir = join(dataDir, 'pg_wal');
    await mkdir(walDir, { recursive: true, mode: 0o700 });
    await Promise.all([
      pipeline(createReadStream(wal), gz.input).then(() => gz.done),
      untar(rawDir, PLAIN_WAL_TAR, walDir, signal),
    ]);
    made[`${PLAIN_WAL_TAR}.gz`] = hash.digest('hex');
  }
  await rm(rawDir, { recursive: true, force: true });
  return made;
}
