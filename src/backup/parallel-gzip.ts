// gzip on more than one core. zlib compresses one stream on one thread, and at gzip's default level
// that is the slowest part of a backup by far (pg_basebackup -z spends nearly all its CPU there).
// Cut into blocks compressed side by side on libuv's thread pool, each block a complete gzip member,
// the output is still one valid .gz file: a gzip file may hold several members, and gunzip, tar -xz
// and zlib's gunzip read them as one stream (the way pigz and bgzip work). Blocks of some MB lose
// next to nothing of the compression ratio.
import { Transform, type TransformCallback } from 'node:stream';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const gzipBlock = promisify(gzip);

export interface ParallelGzipOptions {
  level: number;
  /** Bytes per gzip member. */
  blockBytes?: number;
  /** Blocks compressed at once (libuv's pool has 4 threads; file I/O needs some). */
  parallel?: number;
}

export class ParallelGzip extends Transform {
  private readonly level: number;
  private readonly blockBytes: number;
  private readonly parallel: number;
  private readonly inFlight: Promise<Buffer>[] = [];
  private held: Buffer[] = [];
  private heldBytes = 0;

  constructor(o: ParallelGzipOptions) {
    super();
    this.level = o.level;
    this.blockBytes = o.blockBytes ?? 4 << 20;
    this.parallel = o.parallel ?? 2;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes < this.blockBytes) return done();
    this.launch();
    // Backpressure: take more input only while fewer than `parallel` blocks are being compressed.
    this.emitUntil(this.parallel - 1).then(() => done(), done);
  }

  override _flush(done: TransformCallback): void {
    if (this.heldBytes > 0) this.launch();
    this.emitUntil(0).then(() => done(), done);
  }

  private launch(): void {
    const block = Buffer.concat(this.held, this.heldBytes);
    this.held = [];
    this.heldBytes = 0;
    const compressing = gzipBlock(block, { level: this.level });
    // Awaited in order below; a failure must not count as unhandled meanwhile.
    compressing.catch(() => undefined);
    this.inFlight.push(compressing);
  }

  /** Emits finished blocks, in their order, until at most `left` are still being compressed. */
  private async emitUntil(left: number): Promise<void> {
    while (this.inFlight.length > left) this.push(await this.inFlight.shift()!);
  }
}
