// s3rver (a third-party S3 server on npm, objects as files on disk) on 127.0.0.1 at a free port,
// with one bucket, for the tests of the S3 backup store: it answers the real S3 API (multipart
// uploads, ListObjectsV2 pages of at most 1,000 keys with continuation tokens, DeleteObjects) and
// knows one access key, S3RVER (it refuses others; it does not check V4 signatures). It runs in a
// child process with OpenSSL's legacy provider, which its continuation tokens (DES) need under
// Node 20; each request's method and URL come back on its stdout, so tests see what was sent.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';

export interface LocalS3 {
  url: string;
  bucket: string;
  /** Method and URL (path and query) of every request, in order. */
  requests: { method: string; url: string }[];
  /** A storage spec for the bucket under `prefix`, credentials from env:DRILLBOOK_TEST_S3RVER_*. */
  storage(prefix: string): {
    type: 's3';
    bucket: string;
    prefix: string;
    endpoint: string;
    accessKeyId: string;
    secretAccessKey: string;
  };
  close(): Promise<void>;
}

const SERVER = `
const http = require('node:http');
const S3rver = require('s3rver');
const [directory, bucket] = process.argv.slice(1);
const s3 = new S3rver({ silent: true, directory, configureBuckets: [{ name: bucket }] });
s3.configureBuckets().then(() => {
  const handle = s3.callback();
  const server = http.createServer((req, res) => {
    process.stdout.write(JSON.stringify({ method: req.method, url: req.url }) + '\\n');
    handle(req, res);
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\\n'));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
  // A test process that dies without stopping it closes this pipe: the server goes with it.
  process.stdin.on('end', () => process.exit(0)).resume();
});
`;

export async function localS3(bucket = 'backups'): Promise<LocalS3> {
  const directory = mkdtempSync(join(tmpdir(), 'drillbook-s3rver-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', SERVER, directory, bucket], {
    cwd: process.cwd(),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(directory, { recursive: true, force: true });
  };
  const requests: LocalS3['requests'] = [];
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`s3rver exited (${code}) before listening`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const message = JSON.parse(line) as { port?: number; method?: string; url?: string };
        if (message.port) resolve(message.port);
        else requests.push({ method: message.method!, url: message.url! });
      });
    });
    process.env.DRILLBOOK_TEST_S3RVER_KEY = 'S3RVER';
    process.env.DRILLBOOK_TEST_S3RVER_SECRET = 'S3RVER';
    const url = `http://127.0.0.1:${port}`;
    return {
      url,
      bucket,
      requests,
      storage: (prefix) => ({
        type: 's3',
        bucket,
        prefix,
        endpoint: url,
        accessKeyId: 'env:DRILLBOOK_TEST_S3RVER_KEY',
        secretAccessKey: 'env:DRILLBOOK_TEST_S3RVER_SECRET',
      }),
      close: stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A plain S3 client for the server, to read what the store wrote without the store's own code. */
const clientOf = (s3: LocalS3) =>
  new S3Client({
    region: 'us-east-1',
    endpoint: s3.url,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });

/** An object's bytes. */
export async function fetchObject(s3: LocalS3, key: string): Promise<Buffer> {
  const client = clientOf(s3);
  try {
    const got = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    return Buffer.from(await got.Body!.transformToByteArray());
  } finally {
    client.destroy();
  }
}

/** Every key under a prefix, read page by page as any S3 client must. */
export async function listKeys(s3: LocalS3, prefix: string): Promise<string[]> {
  const client = clientOf(s3);
  const keys: string[] = [];
  let ContinuationToken: string | undefined;
  try {
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix, ContinuationToken }),
      );
      keys.push(...(page.Contents ?? []).map((o) => o.Key!));
      ContinuationToken = page.NextContinuationToken;
    } while (ContinuationToken);
    return keys;
  } finally {
    client.destroy();
  }
}
