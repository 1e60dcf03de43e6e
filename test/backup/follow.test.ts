// Extracting a tar.gz while another process still writes it (no lab needed: the "writer" here
// appends an archive made beforehand, in small pieces, with pauses).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { extractWhileWritten } from '../../src/backup/follow.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('extractWhileWritten', () => {
  const dir = mkdtempSync(join(tmpdir(), 'drillbook-follow-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const src = join(dir, 'src');
  mkdirSync(join(src, 'base'), { recursive: true });
  // Random bytes do not compress: the archive is several read chunks long.
  const big = randomBytes(3 << 20);
  writeFileSync(join(src, 'base', 'big'), big);
  writeFileSync(join(src, 'PG_VERSION'), '15\n');
  execFileSync('tar', ['-czf', join(dir, 'whole.tar.gz'), '-C', src, '.']);
  const whole = readFileSync(join(dir, 'whole.tar.gz'));

  /** Creates `file` after a pause and appends `bytes` in 256 kB pieces, pausing between them. */
  const writer = async (file: string, bytes: Buffer) => {
    await sleep(60);
    const handle = await open(file, 'w');
    try {
      for (let at = 0; at < bytes.length; at += 256 << 10) {
        await handle.write(bytes.subarray(at, at + (256 << 10)));
        await sleep(5);
      }
    } finally {
      await handle.close();
    }
  };

  test('extracts and hashes exactly the bytes of a file that appears late and grows while read', async () => {
    const out = join(dir, 'out-1');
    mkdirSync(out);
    const file = join(dir, 'growing-1.tar.gz');
    const got = await extractWhileWritten(file, writer(file, whole), out, AbortSignal.timeout(30_000));
    assert.deepEqual(got, { size: whole.length, sha256: sha256(whole) });
    assert.ok(readFileSync(join(out, 'base', 'big')).equals(big));
    assert.equal(readFileSync(join(out, 'PG_VERSION'), 'utf8'), '15\n');
  });

  test("a plain tar growing while read is extracted and gzipped; the hash is the gzip file's", async () => {
    execFileSync('tar', ['-cf', join(dir, 'whole.tar'), '-C', src, '.']);
    const plain = readFileSync(join(dir, 'whole.tar'));
    const out = join(dir, 'out-4');
    mkdirSync(out);
    const file = join(dir, 'growing-4.tar');
    const gz = join(dir, 'kept-4.tar.gz');
    const got = await extractWhileWritten(file, writer(file, plain), out, AbortSignal.timeout(30_000), gz);
    const kept = readFileSync(gz);
    assert.deepEqual(got, { size: plain.length, sha256: sha256(kept) });
    assert.ok(gunzipSync(kept).equals(plain), 'the gzip file holds exactly the tar');
    assert.ok(readFileSync(join(out, 'base', 'big')).equals(big));
  });

  test('a complete file is read straight through', async () => {
    const out = join(dir, 'out-2');
    mkdirSync(out);
    const got = await extractWhileWritten(
      join(dir, 'whole.tar.gz'),
      Promise.resolve(),
      out,
      AbortSignal.timeout(30_000),
    );
    assert.equal(got.sha256, sha256(whole));
  });

  test('an archive cut short, or never written by a failed writer, is an extraction failure', async () => {
    const out = join(dir, 'out-3');
    mkdirSync(out);
    const file = join(dir, 'growing-3.tar.gz');
    const cut = writer(file, whole.subarray(0, whole.length >> 1)).then(() => {
      throw new Error('writer failed');
    });
    await assert.rejects(extractWhileWritten(file, cut, out, AbortSignal.timeout(30_000)), /cannot extract/);
    await assert.rejects(cut, /writer failed/);
    await assert.rejects(
      extractWhileWritten(
        join(dir, 'never.tar.gz'),
        Promise.reject(new Error('no')),
        out,
        AbortSignal.timeout(30_000),
      ),
      /cannot extract/,
    );
  });
});
