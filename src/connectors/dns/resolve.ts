// Asking a zone's authoritative servers directly (not the system resolver and its cache): what
// they answer now is what resolvers get once cached answers expire.
import { Resolver } from 'node:dns/promises';
import { isIPv6 } from 'node:net';
import { StepFailure, errorMessage } from '../../errors.js';
import { pollUntil } from '../poll.js';
import { sameName, type RecordType } from './provider.js';

export interface Nameserver {
  host: string;
  port: number;
}

const QUERY_TIMEOUT_MS = 1_000;
// "The name has no such record": an answer (empty), not a failure of the server.
const NO_DATA = new Set(['ENODATA', 'ENOTFOUND']);

export const describeNameserver = (ns: Nameserver) => `${ns.host}:${ns.port}`;

/** The values one server answers for name/type; [] when it has no such record. */
export async function queryNameserver(
  ns: Nameserver,
  name: string,
  type: RecordType,
  signal?: AbortSignal,
): Promise<string[]> {
  const resolver = new Resolver({ timeout: QUERY_TIMEOUT_MS, tries: 1 });
  resolver.setServers([isIPv6(ns.host) ? `[${ns.host}]:${ns.port}` : `${ns.host}:${ns.port}`]);
  const cancel = () => resolver.cancel();
  signal?.addEventListener('abort', cancel, { once: true });
  try {
    const bare = name.replace(/\.$/, '');
    return type === 'A'
      ? await resolver.resolve4(bare)
      : type === 'AAAA'
        ? await resolver.resolve6(bare)
        : await resolver.resolveCname(bare);
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    const code = (err as { code?: string }).code ?? '';
    if (NO_DATA.has(code)) return [];
    throw new StepFailure(`nameserver ${describeNameserver(ns)}: ${type} ${name}: ${errorMessage(err)}`, {
      retryable: true,
      cause: err,
    });
  } finally {
    signal?.removeEventListener('abort', cancel);
  }
}

/**
 * Polls every nameserver until all answer exactly `value` for name/type; returns how long that
 * took. Fails, naming each server's last answer, when timeoutMs passes first.
 */
export async function waitForPropagation(
  nameservers: readonly Nameserver[],
  name: string,
  type: RecordType,
  value: string,
  { timeoutMs, signal }: { timeoutMs: number; signal?: AbortSignal },
): Promise<number> {
  const started = performance.now();
  const last = new Map<string, string>();
  const ok = await pollUntil(
    async () => {
      const answers = await Promise.all(
        nameservers.map(async (ns) => {
          try {
            const values = await queryNameserver(ns, name, type, signal);
            last.set(describeNameserver(ns), values.join(', ') || 'no record');
            return values.length === 1 && sameName(values[0]!, value);
          } catch (err) {
            if (signal?.aborted) throw err;
            last.set(describeNameserver(ns), errorMessage(err));
            return false;
          }
        }),
      );
      return answers.every(Boolean) ? true : undefined;
    },
    { timeoutMs, intervalMs: 100, signal },
  );
  if (!ok) {
    const seen = [...last].map(([ns, answer]) => `${ns} answers ${answer}`).join('; ');
    throw new StepFailure(`${type} ${name} = ${value} not visible after ${timeoutMs} ms: ${seen}`, {
      retryable: true,
    });
  }
  return Math.round(performance.now() - started);
}
