// S3 (or an S3-compatible service) as a backup store, through @aws-sdk/client-s3 (loaded only when
// a step uses it). A file up to one part goes in a single PUT carrying its length and SHA-256, so
// S3 refuses a body that arrived damaged; a larger one in a multipart upload (@aws-sdk/lib-storage)
// whose parts each carry their SHA-256, with no size cap. Path-style requests let `endpoint` point
// at any compatible service.
import { awsCredentials } from '../../connectors/aws-credentials.js';
import { awsFailure, type AwsError } from '../../connectors/aws-errors.js';
import { createReadStream, createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stat } from 'node:fs/promises';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { StepFailure } from '../../errors.js';
import type { StorageSpec } from './spec.js';
import type { Storage, StorageContext } from './storage.js';

const CONNECT_TIMEOUT_MS = 5000;
/** Parts of at least 8 MiB; S3 allows 10,000 parts, so bigger files get bigger parts (no size cap). */
const MIN_PART_BYTES = 8 * 1024 * 1024;
const MAX_PARTS = 9_000;
const PARTS_IN_FLIGHT = 4;

export const partSizeFor = (size: number) => Math.max(MIN_PART_BYTES, Math.ceil(size / MAX_PARTS));

/** A client for the spec's endpoint and credentials. */
async function s3Client(ctx: StorageContext, spec: StorageSpec): Promise<S3Client> {
  const credentials = await awsCredentials(spec.accessKeyId, spec.secretAccessKey, ctx.secret);
  return new S3Client({
    region: spec.region ?? 'us-east-1',
    endpoint: spec.endpoint,
    forcePathStyle: Boolean(spec.endpoint),
    credentials,
    // An endpoint that refuses or never answers fails the step in seconds, not after minutes of retries.
    maxAttempts: 3,
    requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS },
    // Our own SHA-256 goes with every upload; the SDK adds no second checksum of its own.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export async function s3Storage(ctx: StorageContext, spec: StorageSpec, location: string): Promise<Storage> {
  const client = await s3Client(ctx, spec);
  const Bucket = spec.bucket!;
  const prefix = spec.prefix ? spec.prefix.replace(/\/*$/, '/') : '';
  const Key = (key: string) => prefix + key;
  const abortSignal = ctx.signal;
  const send = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      throw awsFailure(`backup store ${location}: ${what}`, err);
    }
  };
  const missing = (err: unknown) => {
    const e = (err as StepFailure).cause as AwsError | undefined;
    return e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
  };
  return {
    location,
    put: (localFile, key, sha256) =>
      uploadFile(ctx, client, { Bucket, Key: Key(key) }, localFile, sha256, send),
    async get(key, localFile) {
      await send(`GET ${Key(key)}`, async () => {
        const r = await client.send(new GetObjectCommand({ Bucket, Key: Key(key) }), { abortSignal });
        await pipeline(r.Body as Readable, createWriteStream(localFile));
      });
    },
    async readText(key) {
      try {
        return await send(`GET ${Key(key)}`, async () => {
          const r = await client.send(new GetObjectCommand({ Bucket, Key: Key(key) }), { abortSignal });
          return await r.Body!.transformToString();
        });
      } catch (err) {
        if (missing(err)) return undefined;
        throw err;
      }
    },
    async writeText(key, text) {
      // One PUT replaces an object atomically: readers get the old catalog or the new one.
      await send(`PUT ${Key(key)}`, () =>
        client.send(
          new PutObjectCommand({ Bucket, Key: Key(key), Body: text, ContentType: 'application/json' }),
          { abortSignal },
        ),
      );
    },
    // Reading the catalog proved the endpoint and the credentials; a PUT proves the permission to write.
    async probeWrite() {
      const probe = Key(`.drillbook-probe-${process.pid}`);
      await send(`PUT ${probe}`, () =>
        client.send(new PutObjectCommand({ Bucket, Key: probe, Body: '' }), { abortSignal }),
      );
      await send(`DELETE ${probe}`, () =>
        client.send(new DeleteObjectCommand({ Bucket, Key: probe }), { abortSignal }),
      );
    },
    removeBackup: (label) =>
      deletePrefix(client, { Bucket, Prefix: Key(`${label}/`) }, location, send, ctx.signal),
    close: async () => client.destroy(),
  };
}

type Send = <T>(what: string, run: () => Promise<T>) => Promise<T>;

/**
 * One part: a single PUT that carries the file's SHA-256, which S3 checks on arrival. More: a
 * multipart upload whose every part carries its own SHA-256; a failed one is aborted, so no parts
 * are left behind (and billed).
 */
async function uploadFile(
  ctx: StorageContext,
  client: S3Client,
  target: { Bucket: string; Key: string },
  localFile: string,
  sha256: string,
  send: Send,
): Promise<void> {
  const { size } = await stat(localFile);
  const partSize = partSizeFor(size);
  const whole = size <= partSize;
  const upload = new Upload({
    client,
    partSize,
    queueSize: PARTS_IN_FLIGHT,
    leavePartsOnError: false,
    params: {
      ...target,
      Body: createReadStream(localFile),
      ...(whole
        ? { ContentLength: size, ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64') }
        : { ChecksumAlgorithm: 'SHA256' }),
    },
  });
  const abort = () => void upload.abort();
  ctx.signal.addEventListener('abort', abort, { once: true });
  try {
    await send(`${whole ? 'PUT' : 'multipart upload of'} ${target.Key}`, () => upload.done());
  } finally {
    ctx.signal.removeEventListener('abort', abort);
  }
}

/** Deletes every object under a prefix, page by page (S3 lists at most 1,000 keys at a time), each page in one DeleteObjects. */
async function deletePrefix(
  client: S3Client,
  { Bucket, Prefix }: { Bucket: string; Prefix: string },
  location: string,
  send: Send,
  abortSignal: AbortSignal,
): Promise<void> {
  let ContinuationToken: string | undefined;
  do {
    const page = await send(`LIST ${Prefix}`, () =>
      client.send(new ListObjectsV2Command({ Bucket, Prefix, ContinuationToken }), { abortSignal }),
    );
    const Objects = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (Objects.length) {
      const deleted = await send(`DELETE ${Objects.length} objects under ${Prefix}`, () =>
        client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects, Quiet: true } }), { abortSignal }),
      );
      const [first, ...more] = deleted.Errors ?? [];
      if (first) {
        throw new StepFailure(
          `backup store ${location}: DELETE ${first.Key} failed: ${first.Code}: ${first.Message}${more.length ? ` (and ${more.length} more)` : ''}`,
          { code: first.Code },
        );
      }
    }
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
}
