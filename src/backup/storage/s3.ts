// S3 (or an S3-compatible service) as a backup store, through @aws-sdk/client-s3 (loaded only when
// a step uses it). Each upload carries its length and SHA-256, so S3 refuses a body that arrived
// damaged; path-style requests let `endpoint` point at any compatible service.
import { awsCredentials } from '../../connectors/aws-credentials.js';
import { awsFailure, type AwsError } from '../../connectors/aws-errors.js';
import { createReadStream, createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stat } from 'node:fs/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { StepFailure } from '../../errors.js';
import type { StorageSpec } from './spec.js';
import type { Storage, StorageContext } from './storage.js';

const CONNECT_TIMEOUT_MS = 5000;

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
    async put(localFile, key, sha256) {
      const { size } = await stat(localFile);
      await send(`PUT ${Key(key)}`, () =>
        client.send(
          new PutObjectCommand({
            Bucket,
            Key: Key(key),
            Body: createReadStream(localFile),
            ContentLength: size,
            ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
          }),
          { abortSignal },
        ),
      );
    },
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
    async removeBackup(label) {
      const listed = await send(`LIST ${Key(`${label}/`)}`, () =>
        client.send(new ListObjectsV2Command({ Bucket, Prefix: Key(`${label}/`) }), { abortSignal }),
      );
      for (const o of listed.Contents ?? []) {
        await send(`DELETE ${o.Key}`, () =>
          client.send(new DeleteObjectCommand({ Bucket, Key: o.Key }), { abortSignal }),
        );
      }
    },
    close: async () => client.destroy(),
  };
}
