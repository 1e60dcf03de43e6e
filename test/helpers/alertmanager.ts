// What the serve tests share: Alertmanager's webhook body (payload version 4) and a bounded poll.

/** One alert as Alertmanager posts it; labels and annotations add to or replace the defaults. */
export const alert = (
  labels: Record<string, string>,
  o: { status?: string; fingerprint?: string; annotations?: Record<string, string>; startsAt?: string } = {},
) => ({
  status: o.status ?? 'firing',
  labels: { alertname: 'PostgresPrimaryDown', severity: 'critical', instance: 'pg1:5432', ...labels },
  annotations: o.annotations ?? { summary: 'primary down' },
  startsAt: o.startsAt ?? '2026-11-29T10:00:00Z',
  endsAt: '0001-01-01T00:00:00Z',
  generatorURL: 'http://prometheus/graph',
  fingerprint: o.fingerprint ?? 'f00d',
});

/** The webhook body carrying these alerts. */
export const payload = (...alerts: object[]) =>
  JSON.stringify({ version: '4', status: 'firing', receiver: 'drillbook', groupKey: '{}:{}', alerts });

/** Polls fn until it returns a value, or fails naming what it waited for. */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  ms = 10_000,
  everyMs = 50,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
