// known_hosts parsing and the host verifier built from it.
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { knownHostsName, knownHostsVerifier, parseKnownHosts } from '../../src/connectors/known-hosts.js';
import { UserError } from '../../src/errors.js';

const KEY_A = Buffer.from('key-a-blob');
const KEY_B = Buffer.from('key-b-blob');
const line = (name: string, key: Buffer) => `${name} ssh-ed25519 ${key.toString('base64')}`;

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

describe('known_hosts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'drillbook-known-hosts-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('names a non-22 port in brackets', () => {
    assert.equal(knownHostsName('127.0.0.11', 2222), '[127.0.0.11]:2222');
    assert.equal(knownHostsName('db.example', 22), 'db.example');
  });

  test('matches plain, comma-separated and hashed names, skipping comments and markers', () => {
    const text = [
      '# comment',
      line('[127.0.0.11]:2222', KEY_A),
      line('other,[127.0.0.12]:2222', KEY_B),
      line(hashed('[127.0.0.13]:2222'), KEY_B),
      `@revoked ${line('[127.0.0.11]:2222', KEY_B)}`,
    ].join('\n');
    assert.deepEqual(parseKnownHosts(text, '127.0.0.11', 2222), [{ type: 'ssh-ed25519', key: KEY_A }]);
    assert.deepEqual(parseKnownHosts(text, '127.0.0.12', 2222), [{ type: 'ssh-ed25519', key: KEY_B }]);
    assert.deepEqual(parseKnownHosts(text, '127.0.0.13', 2222), [{ type: 'ssh-ed25519', key: KEY_B }]);
    assert.deepEqual(parseKnownHosts(text, '127.0.0.11', 22), []);
  });

  test('the verifier accepts the pinned key only, and a host without an entry is an error', () => {
    const file = join(dir, 'known_hosts');
    writeFileSync(file, line('[127.0.0.11]:2222', KEY_A) + '\n');
    const verify = knownHostsVerifier(file, '127.0.0.11', 2222);
    assert.equal(verify(KEY_A), true);
    assert.equal(verify(KEY_B), false);
    assert.throws(() => knownHostsVerifier(file, '127.0.0.99', 2222), UserError);
    assert.throws(() => knownHostsVerifier(join(dir, 'missing'), '127.0.0.11', 2222), UserError);
  });
});
