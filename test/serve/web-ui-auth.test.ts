// The web UI's sessions: a token signs in only its own user; the cookie is signed, expires, cannot be
// stretched or moved to another user, and dies with the process's key; the CSRF token belongs to
// one session.
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { SESSION_COOKIE, sessions } from '../../src/serve/ui/auth.js';

const USERS = [
  { id: 'U0ALICE', name: 'alice', token: 'alice-token-0123456789abcdef' },
  { id: 'U0BOB', token: 'bob-token-0123456789abcdefgh' },
];
const cookieOf = (setCookie: string) => setCookie.split(';')[0]!;

describe('web UI sessions', () => {
  it('signs in the user whose token it is, and nobody for another text', () => {
    const s = sessions(USERS, false);
    assert.deepEqual(s.signIn(USERS[0]!.token), { id: 'U0ALICE', name: 'alice' });
    assert.equal(s.signIn(USERS[1]!.token)?.id, 'U0BOB');
    for (const wrong of ['', 'alice-token', `${USERS[0]!.token} `, 'U0ALICE'])
      assert.equal(s.signIn(wrong), undefined);
  });

  it('keeps a session only under its own signature, key and expiry', () => {
    const s = sessions(USERS, true);
    const set = s.cookieFor({ id: 'U0ALICE', name: 'alice' });
    assert.match(set, /HttpOnly; SameSite=Strict; Secure; Max-Age=43200$/);
    const cookie = cookieOf(set);
    assert.equal(s.userOf(`other=1; ${cookie}`)?.id, 'U0ALICE');
    const [, value] = cookie.split('=');
    const [id, expires, mac] = value!.split('.');
    assert.equal(s.userOf(`${SESSION_COOKIE}=U0BOB.${expires}.${mac}`), undefined, 'another user');
    assert.equal(s.userOf(`${SESSION_COOKIE}=${id}.${Number(expires) + 1e9}.${mac}`), undefined, 'stretched');
    assert.equal(sessions(USERS, true).userOf(cookie), undefined, 'another process');
    assert.equal(s.userOf(undefined), undefined);
    const later = mock.method(Date, 'now', () => Number(expires) + 1);
    try {
      assert.equal(s.userOf(cookie), undefined, 'expired');
    } finally {
      later.mock.restore();
    }
    assert.match(s.signOut, /^drillbook_session=; .*Max-Age=0$/);
  });

  it('gives each session its own CSRF token', () => {
    const s = sessions(USERS, false);
    const alice = cookieOf(s.cookieFor({ id: 'U0ALICE' }));
    const bob = cookieOf(s.cookieFor({ id: 'U0BOB' }));
    const token = s.csrfOf(alice)!;
    assert.ok(s.csrfValid(alice, token));
    assert.ok(!s.csrfValid(bob, token));
    assert.ok(!s.csrfValid(alice, undefined));
    assert.ok(!s.csrfValid(undefined, token));
    assert.equal(s.csrfOf(undefined), undefined);
  });
});
