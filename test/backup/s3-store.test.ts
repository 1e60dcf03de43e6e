// The S3 backup store. Stand-ins: s3rver (a third-party S3 server, see s3rver.ts) for S3 itself,
// so uploads, multipart uploads, listings with continuation tokens and deletes go over HTTP to a
// server that implements them; aws-sdk-client-mock (S3Client's `send` replaced) where s3rver cannot
// answer: what each PUT carries (length, SHA-256), and the abort of a failed multipart upload
// (s3rver has no AbortMultipartUpload).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { openStorage, type StorageContext } from '../../src/backup/storage/storage.js';
import type { StorageSpec } from '../../src/backup/storage/spec.js';
import { resolveSecretRef } from '../../src/connectors/secrets.js';
import { StepFailure } from '../../src/errors.js';
import { listKeys, localS3, type LocalS3 } from './s3rver.js';

const tmp = mkdtempSync(join(tmpdir(), 'drillbook-s3-store-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const ctx = (): StorageContext => ({
  env: {} as StorageContext['env'],
  signal: AbortSignal.timeout(120_000),
  secret: resolveSecretRef,
  stepId: 'store',
});

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
function file(name: string, bytes: number): { path: string; data: Buffer } {
  const data = randomBytes(bytes);
  const path = join(tmp, name);
  writeFileSync(path, data);
  return { path, data };
}

describe('S3 store against s3rver', () => {
  let s3: LocalS3;
  before(async () => {
    s3 = await localS3();
  });
  after(() => s3?.close());

  test('a small file goes up in one PUT and comes back byte for byte; text objects; a missing key is undefined', async () => {
    const storage = await openStorage(ctx(), s3.storage('small') as StorageSpec);
    try {
      const { path, data } = file('small.bin', 64 * 1024);
      await storage.put(path, 'b1/small.bin', sha256(data));
      const back = join(tmp, 'small.back');
      await storage.get('b1/small.bin', back);
      assert.ok(readFileSync(back).equals(data));
      await storage.writeText('catalog.json', '{"backups":[]}');
      assert.equal(await storage.readText('catalog.json'), '{"backups":[]}');
      assert.equal(await storage.readText('absent.json'), undefined);
      await storage.probeWrite();
    } finally {
      await storage.close();
    }
  });

  test('a file larger than a part goes up as a multipart upload of 8 MiB parts and reads back whole', async () => {
    const storage = await openStorage(ctx(), s3.storage('large') as StorageSpec);
    try {
      const { path, data } = file('large.bin', 20 * 1024 * 1024);
      await storage.put(path, 'b1/large.bin', sha256(data));
      const sent = s3.requests.filter((r) => r.url.startsWith('/backups/large/b1/large.bin'));
      assert.deepEqual(
        sent.map((r) => `${r.method} ${r.url.replace(/uploadId=[^&]+/, 'uploadId=ID')}`),
        [
          'POST /backups/large/b1/large.bin?uploads=',
          // Three parts go up at once (queueSize), in any order.
          ...sent
            .slice(1, 4)
            .map((r) => `PUT ${r.url.replace(/uploadId=[^&]+/, 'uploadId=ID')}`)
            .sort(),
          'POST /backups/large/b1/large.bin?uploadId=ID',
        ],
      );
      assert.deepEqual(
        sent
          .slice(1, 4)
          .map((r) => /partNumber=(\d)/.exec(r.url)?.[1])
          .sort(),
        ['1', '2', '3'],
        '20 MiB in parts of 8, 8 and 4 MiB',
      );
      const back = join(tmp, 'large.back');
      await storage.get('b1/large.bin', back);
      assert.equal(sha256(readFileSync(back)), sha256(data));
    } finally {
      await storage.close();
    }
  });

  test('a backup of more than 1,000 objects is deleted completely (listing pages with continuation tokens)', async () => {
    const storage = await openStorage(ctx(), s3.storage('many') as StorageSpec);
    try {
      const label = 'base-20260101T000000Z';
      const names = Array.from({ length: 1010 }, (_, i) => `${label}/f${String(i).padStart(4, '0')}`);
      for (let i = 0; i < names.length; i += 50)
        await Promise.all(names.slice(i, i + 50).map((n) => storage.writeText(n, n)));
      await storage.writeText('base-20260102T000000Z/keep', 'another backup');
      assert.equal((await listKeys(s3, `many/${label}/`)).length, 1010, 'more than one page to delete');
      await storage.removeBackup(label);
      assert.deepEqual(await listKeys(s3, `many/${label}/`), []);
      const lists = s3.requests.filter(
        (r) => r.method === 'GET' && r.url.includes('prefix=many%2Fbase-20260101'),
      );
      assert.ok(
        lists.some((r) => r.url.includes('continuation-token=')),
        'the second page asked with its token',
      );
      assert.deepEqual(
        await listKeys(s3, 'many/base-20260102T000000Z/'),
        ['many/base-20260102T000000Z/keep'],
        'another backup stays',
      );
    } finally {
      await storage.close();
    }
  });

  test('an unknown access key is a one-line failure naming the store, the call and S3’s code', async () => {
    process.env.DRILLBOOK_TEST_S3RVER_WRONG = 'AKIDUNKNOWN';
    const spec = {
      ...s3.storage('small'),
      accessKeyId: 'env:DRILLBOOK_TEST_S3RVER_WRONG',
    } as StorageSpec;
    const storage = await openStorage(ctx(), spec);
    try {
      await assert.rejects(storage.readText('catalog.json'), (err: unknown) => {
        assert.ok(err instanceof StepFailure);
        assert.match(
          err.message,
          /^backup store s3:\/\/backups\/small: GET small\/catalog\.json failed: InvalidAccessKeyId: The AWS Access Key Id you provided does not exist in our records\. \(HTTP 403\)$/,
        );
        return true;
      });
    } finally {
      await storage.close();
    }
  });
});

describe('S3 store requests (S3Client mocked)', () => {
  test('a single PUT carries the file’s length and SHA-256', async (t) => {
    const mock = mockClient(S3Client);
    t.after(() => mock.restore());
    mock.on(PutObjectCommand).resolves({ ETag: '"x"' });
    const storage = await openStorage(ctx(), {
      type: 's3',
      bucket: 'backups',
      prefix: 'lab',
    } as StorageSpec);
    const { path, data } = file('checked.bin', 1000);
    await storage.put(path, 'b1/checked.bin', sha256(data));
    await storage.close();
    const [put] = mock.commandCalls(PutObjectCommand);
    assert.equal(put!.args[0].input.Key, 'lab/b1/checked.bin');
    assert.equal(put!.args[0].input.ContentLength, 1000);
    assert.equal(put!.args[0].input.ChecksumSHA256, Buffer.from(sha256(data), 'hex').toString('base64'));
  });

  test('a multipart upload whose part fails is aborted (no parts left behind) and fails the step', async (t) => {
    const mock = mockClient(S3Client);
    t.after(() => mock.restore());
    mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
    mock
      .on(UploadPartCommand)
      .resolvesOnce({ ETag: '"p1"' })
      .rejects(
        Object.assign(new Error('We encountered an internal error.'), {
          name: 'InternalError',
          $metadata: { httpStatusCode: 500 },
        }),
      );
    mock.on(AbortMultipartUploadCommand).resolves({});
    const storage = await openStorage(ctx(), { type: 's3', bucket: 'backups', prefix: 'lab' } as StorageSpec);
    const { path, data } = file('doomed.bin', 17 * 1024 * 1024);
    await assert.rejects(storage.put(path, 'b1/doomed.bin', sha256(data)), (err: unknown) => {
      assert.ok(err instanceof StepFailure);
      assert.match(
        err.message,
        /^backup store s3:\/\/backups\/lab: multipart upload of lab\/b1\/doomed\.bin failed: InternalError: We encountered an internal error\. \(HTTP 500\)$/,
      );
      return true;
    });
    await storage.close();
    const aborts = mock.commandCalls(AbortMultipartUploadCommand).map((c) => c.args[0].input);
    assert.deepEqual(aborts, [{ Bucket: 'backups', Key: 'lab/b1/doomed.bin', UploadId: 'up-1' }]);
    const parts = mock.commandCalls(UploadPartCommand).map((c) => c.args[0].input.PartNumber);
    assert.ok(parts.length >= 2 && parts.length <= 3, `parts tried: ${parts.join(',')}`);
    assert.equal(
      mock.commandCalls(CreateMultipartUploadCommand)[0]!.args[0].input.ChecksumAlgorithm,
      'SHA256',
    );
  });
});
