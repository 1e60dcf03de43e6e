// A loopback stand-in for an S3 principal without write permission (path-style): with `readOnly`
// it refuses every PUT and DELETE with AccessDenied, as S3 does, which s3rver cannot be made to do.
// GET answers NoSuchKey for what it does not hold; every request is recorded. Where S3's own
// behaviour matters (multipart, listing pages, DeleteObjects), tests use s3rver (s3rver.ts).
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface S3Request {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface S3Stub {
  url: string;
  requests: S3Request[];
  objects: Map<string, Buffer>;
  close(): Promise<void>;
}

export async function s3Stub(options: { readOnly?: boolean } = {}): Promise<S3Stub> {
  const requests: S3Request[] = [];
  const objects = new Map<string, Buffer>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://stub');
      const r = {
        method: req.method ?? '',
        path: decodeURIComponent(url.pathname),
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(r);
      const key = r.path.slice(1);
      if (options.readOnly && (r.method === 'PUT' || r.method === 'DELETE')) {
        res.writeHead(403, { 'content-type': 'application/xml' });
        res.end(
          '<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>',
        );
      } else if (r.method === 'PUT') {
        objects.set(key, r.body);
        res.writeHead(200, { etag: `"${createHash('md5').update(r.body).digest('hex')}"` }).end();
      } else if (r.method === 'GET') {
        const body = objects.get(key);
        if (!body) {
          res.writeHead(404, { 'content-type': 'application/xml' });
          res.end(
            '<?xml version="1.0"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>',
          );
        } else {
          res.writeHead(200, { 'content-length': body.length }).end(body);
        }
      } else if (r.method === 'DELETE') {
        objects.delete(key);
        res.writeHead(204).end();
      } else {
        res.writeHead(405).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    objects,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
