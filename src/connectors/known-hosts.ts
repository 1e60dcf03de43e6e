// Host key pinning for SSH: a known_hosts file turned into an ssh2/node-ssh `hostVerifier`.
// Never "accept any": a host without an entry, or with a different key, is refused.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { UserError } from '../errors.js';

export interface KnownHostKey {
  type: string;
  /** The public key blob, as the server sends it during the handshake. */
  key: Buffer;
}

/** ssh2's hostVerifier signature when no hostHash option is set: the raw key blob. */
export type HostVerifier = (key: Buffer) => boolean;

/** OpenSSH writes `host` for port 22 and `[host]:port` otherwise. */
export function knownHostsName(host: string, port = 22): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** The keys known_hosts pins for host:port (plain, comma-separated or hashed `|1|` names; @revoked lines skipped). */
export function parseKnownHosts(text: string, host: string, port = 22): KnownHostKey[] {
  const name = knownHostsName(host, port);
  const keys: KnownHostKey[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('@')) continue;
    const [patterns, type, blob] = line.split(/\s+/);
    if (!patterns || !type || !blob) continue;
    if (patterns.split(',').some((p) => nameMatches(p, name)))
      keys.push({ type, key: Buffer.from(blob, 'base64') });
  }
  return keys;
}

/**
 * A hostVerifier for node-ssh / ssh2 that accepts exactly the keys pinned for host:port in the
 * known_hosts file. Throws UserError up front when the file has no entry for that host.
 */
export function knownHostsVerifier(knownHostsFile: string, host: string, port = 22): HostVerifier {
  let text: string;
  try {
    text = readFileSync(knownHostsFile, 'utf8');
  } catch (err) {
    throw new UserError(
      `cannot read known_hosts file ${knownHostsFile}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const pinned = parseKnownHosts(text, host, port);
  if (pinned.length === 0) {
    throw new UserError(
      `${knownHostsFile} has no host key for ${knownHostsName(host, port)}; refusing to connect unverified`,
    );
  }
  return (key) => pinned.some((p) => p.key.equals(key));
}

function nameMatches(pattern: string, name: string): boolean {
  if (!pattern.startsWith('|1|')) return pattern === name;
  // Hashed entry: |1|base64(salt)|base64(HMAC-SHA1(salt, name)).
  const [, , salt, hash] = pattern.split('|');
  if (!salt || !hash) return false;
  return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
}
