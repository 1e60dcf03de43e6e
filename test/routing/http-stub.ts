// A loopback HTTP server that records every request and answers with the test's handler, to
// check what the SDKs and clients send (method, path, headers, body) and answer like the real API.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface StubAnswer {
  status?: number;
  headers?: Record<string, string>;
  body?: string | object;
}

export interface HttpStub {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function httpStub(handler: (req: RecordedRequest) => StubAnswer): Promise<HttpStub> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      let answer: StubAnswer;
      try {
        answer = handler(recorded);
      } catch (err) {
        answer = { status: 500, body: `stub handler failed: ${String(err)}` };
      }
      const body = typeof answer.body === 'object' ? JSON.stringify(answer.body) : (answer.body ?? '');
      const type = typeof answer.body === 'object' ? { 'content-type': 'application/json' } : {};
      res.writeHead(answer.status ?? 200, { ...type, ...answer.headers });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
