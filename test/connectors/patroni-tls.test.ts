// Patroni's REST API over https with a private CA (inventory ha.rest.ca): a real TLS server on
// loopback with a certificate that openssl signs with a CA made here. With the CA the read and the
// authenticated call succeed; without it the request fails in one line naming the certificate.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { patroniCall, patroniCluster, type PatroniApi } from '../../src/connectors/patroni.js';

const HOST = '127.0.1.38'; // private slot 28's range

/** A CA, and a server certificate for HOST signed by it (PEM texts). */
function makeCerts(dir: string): { ca: string; key: string; cert: string } {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=drillbook test CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  );
  ssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    `/CN=${HOST}`,
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  );
  writeFileSync(join(dir, 'ext.cnf'), `subjectAltName=IP:${HOST}\n`);
  ssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    'ext.cnf',
    '-out',
    'server.pem',
  );
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  return { ca: read('ca.pem'), key: read('server.key'), cert: read('server.pem') };
}

describe('Patroni REST API over https with a private CA', () => {
  const dir = mkdtempSync(join(tmpdir(), 'drillbook-patroni-tls-'));
  let server: Server;
  let ca = '';
  let url = '';
  const seen: { method?: string; auth?: string }[] = [];

  before(async () => {
    const certs = makeCerts(dir);
    ca = certs.ca;
    server = createServer({ key: certs.key, cert: certs.cert }, (req, res) => {
      seen.push({ method: req.method, auth: req.headers.authorization });
      res.setHeader('content-type', 'application/json');
      if (req.url === '/cluster')
        return res.end(
          JSON.stringify({ members: [{ name: 'pg1', role: 'leader', state: 'running', timeline: 3 }] }),
        );
      res.end('Successfully switched over to "pg2"');
    });
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
    url = `https://${HOST}:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('with the CA: GET /cluster and an authenticated POST succeed', async () => {
    const api: PatroniApi = { urls: { pg1: url }, auth: { username: 'u', password: 'p' }, ca };
    const cluster = await patroniCluster(api);
    assert.equal(cluster.members[0]?.name, 'pg1');
    assert.match(await patroniCall(api, 'pg1', 'POST', '/switchover', { leader: 'pg1' }), /switched over/);
    assert.equal(seen.at(-1)?.method, 'POST');
    assert.equal(seen.at(-1)?.auth, `Basic ${Buffer.from('u:p').toString('base64')}`);
  });

  test('without it: one line naming the member and the certificate problem', async () => {
    await assert.rejects(patroniCluster({ urls: { pg1: url } }), (err: Error) => {
      assert.match(
        err.message,
        /no Patroni member answered GET \/cluster: patroni pg1 https:\/\/.*: GET failed: .*certificate/i,
      );
      assert.equal(err.message.split('\n').length, 1);
      return true;
    });
  });
});
