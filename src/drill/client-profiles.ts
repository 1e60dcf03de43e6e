// The drill's clients: named profiles, each writing with its own connection loop and timeouts. A
// drill that names none gets one profile behaving like a typical application (README, "Client
// profiles"): a 5 s connect timeout (what many applications set; libpq waits forever by default,
// JDBC 10 s, HikariCP 30 s), a 5 s statement timeout and a pool-like 200 ms pause before reconnecting.
import { formatDuration, parseDuration } from '../duration.js';
import { DEFAULT_CLIENT_PROFILE, type Drill } from '../schema/drill.js';

export type ClientRoute = 'router' | 'dns' | 'node' | string[];

export interface ClientProfile {
  name: string;
  connectTimeoutMs: number;
  writeTimeoutMs: number;
  reconnectDelayMs: number;
  via: ClientRoute;
}

export const TYPICAL_PROFILE: Omit<ClientProfile, 'via'> = {
  name: DEFAULT_CLIENT_PROFILE,
  connectTimeoutMs: 5000,
  writeTimeoutMs: 5000,
  reconnectDelayMs: 200,
};

/** The drill's profiles with every default filled in (the probe's `via` is each one's default route). */
export function clientProfiles(probe: Drill['probe']): ClientProfile[] {
  const via = probe?.via ?? 'router';
  const declared = probe?.clients ?? [{ name: TYPICAL_PROFILE.name }];
  return declared.map((c) => ({
    name: c.name,
    connectTimeoutMs: parseDuration(c.connectTimeout ?? '') ?? TYPICAL_PROFILE.connectTimeoutMs,
    writeTimeoutMs: parseDuration(c.writeTimeout ?? '') ?? TYPICAL_PROFILE.writeTimeoutMs,
    reconnectDelayMs: parseDuration(c.reconnectDelay ?? '') ?? TYPICAL_PROFILE.reconnectDelayMs,
    via: c.via ?? via,
  }));
}

/** The profile the objectives judge: the one they name, else the first. */
export function judgedProfile(drill: Pick<Drill, 'probe' | 'objectives'>): string {
  return drill.objectives.profile ?? drill.probe?.clients?.[0]?.name ?? TYPICAL_PROFILE.name;
}

/** A profile's timeouts, in words. */
export const profileTimeouts = (p: Omit<ClientProfile, 'name' | 'via'>) =>
  `connect ${formatDuration(p.connectTimeoutMs)}, write ${formatDuration(p.writeTimeoutMs)}, reconnect after ${formatDuration(p.reconnectDelayMs)}`;

/** The judged profile's place among the drill's clients (the first when none is named). */
export const judgedIndex = (clients: readonly { profile: { name: string } }[], judged?: string) =>
  Math.max(
    0,
    clients.findIndex((c) => c.profile.name === judged),
  );
