// Who is using the web UI. Each person of the triggers file's `ui.users` signs in with their own token
// (compared in constant time); the session is a cookie signed with a key this process draws at start
// (HttpOnly, SameSite=Strict, Secure over TLS), so a restart signs everyone out. A state-changing
// request (an approval) must also carry the session's CSRF token in a header, which a page of another
// site can neither read nor send. Loopback is never taken as identity.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface WebUser {
  /** The person's Slack user id: the allow-list and four eyes compare it, as for a click. */
  id: string;
  name?: string;
}

export const SESSION_COOKIE = 'drillbook_session';
export const CSRF_HEADER = 'x-drillbook-csrf';
const SESSION_MS = 12 * 3600_000;

const digest = (text: string) => createHash('sha256').update(text).digest();
const same = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

export interface Sessions {
  /** The user whose token this is, if any (every token compared, so timing tells nothing). */
  signIn(token: string): WebUser | undefined;
  /** The Set-Cookie value of a new session for `user`. */
  cookieFor(user: WebUser): string;
  /** The user of a request's Cookie header, when its session is valid and current. */
  userOf(cookieHeader: string | undefined): WebUser | undefined;
  /** The CSRF token of the session in a Cookie header (what the page sends back in CSRF_HEADER). */
  csrfOf(cookieHeader: string | undefined): string | undefined;
  /** Whether a state-changing request carries its session's CSRF token. */
  csrfValid(cookieHeader: string | undefined, token: unknown): boolean;
  /** Set-Cookie value that ends the session. */
  readonly signOut: string;
}

function cookieValue(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === SESSION_COOKIE) return value.join('=');
  }
  return undefined;
}

export function sessions(users: readonly (WebUser & { token: string })[], secure: boolean): Sessions {
  const key = randomBytes(32);
  const sign = (text: string) => createHmac('sha256', key).update(text).digest('base64url');
  const flags = `Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
  const byId = new Map(users.map((u) => [u.id, { id: u.id, name: u.name }]));
  const valid = (header: string | undefined) => {
    const value = cookieValue(header);
    const [id, expires, mac] = value?.split('.') ?? [];
    if (!id || !expires || !mac || !same(mac, sign(`${id}.${expires}`))) return undefined;
    if (Number(expires) < Date.now()) return undefined;
    return { value: value!, user: byId.get(decodeURIComponent(id)) };
  };
  return {
    signIn(token) {
      let found: WebUser | undefined;
      for (const u of users) if (same(token, u.token) && !found) found = byId.get(u.id);
      return found;
    },
    cookieFor(user) {
      const text = `${encodeURIComponent(user.id)}.${Date.now() + SESSION_MS}`;
      return `${SESSION_COOKIE}=${text}.${sign(text)}; ${flags}; Max-Age=${SESSION_MS / 1000}`;
    },
    userOf: (header) => valid(header)?.user,
    csrfOf(header) {
      const session = valid(header);
      return session?.user ? sign(`csrf:${session.value}`) : undefined;
    },
    csrfValid(header, token) {
      const expected = this.csrfOf(header);
      return expected !== undefined && typeof token === 'string' && same(token, expected);
    },
    signOut: `${SESSION_COOKIE}=; ${flags}; Max-Age=0`,
  };
}
