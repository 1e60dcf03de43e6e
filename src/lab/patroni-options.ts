// `lab up --ha patroni`: the Patroni lab's shape (timings, REST and etcd ports) from options over defaults.
import { UserError } from '../errors.js';

/** The Patroni lab's resolved shape, stored in state.json as LabConfig.patroni. */
export interface PatroniLabConfig {
  ttl: number;
  loopWait: number;
  retryTimeout: number;
  /** Patroni's REST API port on every node address. */
  restPort: number;
  /** etcd client and peer ports on each member's address. */
  etcdClientPort: number;
  etcdPeerPort: number;
  /** Three members, so losing one is drillable without losing the DCS. */
  etcdHosts: string[];
}

export interface PatroniLabOptions {
  ha?: 'patroni';
  /** ttl=20,loop_wait=1,retry_timeout=3 (any subset; the rest are Patroni's defaults). */
  patroni?: string;
  patroniRestPort?: number;
  /** etcd's client port; the peer port is the next one. */
  etcdPort?: number;
}

/** Patroni's own defaults: a lab that does not ask otherwise measures what production teams run. */
const DEFAULT_TIMINGS = { ttl: 30, loop_wait: 10, retry_timeout: 10 };
const DEFAULT_REST_PORT = 8008;
const DEFAULT_ETCD_PORT = 2379;
const ETCD_MEMBERS = 3;

export function resolvePatroniConfig(
  options: PatroniLabOptions,
  baseAddress: string,
): PatroniLabConfig | undefined {
  if (options.ha === undefined) {
    const stray = (['patroni', 'patroniRestPort', 'etcdPort'] as const).find((k) => options[k] !== undefined);
    if (stray) throw new UserError(`--${kebab(stray)} needs --ha patroni`);
    return undefined;
  }
  if (options.ha !== 'patroni') throw new UserError(`--ha must be patroni, got ${String(options.ha)}`);
  const timings = parseTimings(options.patroni ?? '');
  const etcdClientPort = options.etcdPort ?? DEFAULT_ETCD_PORT;
  const octets = baseAddress.split('.').map(Number);
  return {
    ttl: timings.ttl,
    loopWait: timings.loop_wait,
    retryTimeout: timings.retry_timeout,
    restPort: options.patroniRestPort ?? DEFAULT_REST_PORT,
    etcdClientPort,
    etcdPeerPort: etcdClientPort + 1,
    etcdHosts: Array.from({ length: ETCD_MEMBERS }, (_, i) =>
      [...octets.slice(0, 3), (octets[3] ?? 0) + i + 1].join('.'),
    ),
  };
}

/** The options that rebuild `config` (assertSameShape compares a lab's shape through them). */
export function patroniConfigAsOptions(config: PatroniLabConfig | undefined): PatroniLabOptions {
  if (!config) return {};
  return {
    ha: 'patroni',
    patroni: `ttl=${config.ttl},loop_wait=${config.loopWait},retry_timeout=${config.retryTimeout}`,
    patroniRestPort: config.restPort,
    etcdPort: config.etcdClientPort,
  };
}

/** The ports a Patroni lab adds on node addresses, by flag, for the distinctness check. */
export function patroniNodePorts(config: PatroniLabConfig | undefined): [string, number][] {
  if (!config) return [];
  return [
    ['--patroni-rest-port', config.restPort],
    ['--etcd-port', config.etcdClientPort],
    ['--etcd-port + 1 (etcd peers)', config.etcdPeerPort],
  ];
}

function parseTimings(text: string): typeof DEFAULT_TIMINGS {
  const timings = { ...DEFAULT_TIMINGS };
  for (const pair of text.split(',').filter((p) => p.trim() !== '')) {
    const [key, value, extra] = pair.split('=').map((s) => s.trim());
    if (!key || !(key in timings) || value === undefined || extra !== undefined || !/^\d+$/.test(value)) {
      throw new UserError(
        `--patroni takes ttl=N,loop_wait=N,retry_timeout=N (whole seconds), got "${pair.trim()}"`,
      );
    }
    timings[key as keyof typeof timings] = Number(value);
  }
  const { ttl, loop_wait, retry_timeout } = timings;
  if (loop_wait < 1 || retry_timeout < 1 || ttl < loop_wait + 2 * retry_timeout) {
    // Patroni's own rule: a leader must be able to retry the DCS twice and loop once within its ttl.
    throw new UserError(
      `--patroni needs loop_wait >= 1, retry_timeout >= 1 and ttl >= loop_wait + 2 * retry_timeout, got ttl=${ttl},loop_wait=${loop_wait},retry_timeout=${retry_timeout}`,
    );
  }
  return timings;
}

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
