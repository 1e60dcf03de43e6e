// Blocks compressed side by side still make one gzip file that gunzip and tar read whole.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { ParallelGzip } from '../../src/backup/parallel-gzip.js';

const compress = (input: Buffer, piece: number, o: ConstructorParameters<typeof ParallelGzip>[0]) => {
  const pieces = [];
  for (let at = 0; at < input.length; at += piece) pieces.push(input.subarray(at, at + piece));
  return buffer(Readable.from(pieces).pipe(new ParallelGzip(o)));
};

describe('ParallelGzip', () => {
  // Text compresses, random bytes do not: both kinds of block, in an order that must be kept.
  const input = Buffer.concat([
    Buffer.from('drillbook '.repeat(300_000)),
    randomBytes(1 << 20),
    Buffer.from('tail'),
  ]);

  test('many members, in order: gunzip and gzip -d give back exactly the input', async () => {
    const out = await compress(input, 7_000, { level: 6, blockBytes: 64 << 10, parallel: 3 });
    assert.ok(gunzipSync(out).equals(input));
    assert.ok(execFileSync('gzip', ['-dc'], { input: out, maxBuffer: 64 << 20 }).equals(input));
    // One member per block: each starts with the gzip magic bytes.
    const members = out.toString('latin1').split('\x1f\x8b\x08').length - 1;
    assert.ok(members >= input.length / (72 << 10), `${members} members`);
  });

  test('default blocks compress about as well as one stream', async () => {
    const text = Buffer.from('pgbench_accounts filler '.repeat(1_000_000));
    const out = await compress(text, 1 << 20, { level: 6 });
    assert.ok(gunzipSync(out).equals(text));
    const single = execFileSync('gzip', ['-6', '-c'], { input: text, maxBuffer: 64 << 20 });
    assert.ok(out.length <= single.length * 1.02 + 1024, `${out.length} vs ${single.length}`);
  });

  test('empty input is an empty output', async () => {
    assert.equal((await compress(Buffer.alloc(0), 1, { level: 6 })).length, 0);
  });
});
