// WAL positions (LSNs) as PostgreSQL prints them ("16/B374D848"): compared and subtracted across
// nodes in drillbook, since pg_wal_lsn_diff() only sees one server.

/** The byte position of an LSN text, as a bigint (LSNs are 64-bit). */
export function parseLsn(text: string): bigint {
  const m = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i.exec(text.trim());
  if (!m) throw new Error(`not a WAL position: "${text}"`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

/** Bytes from b to a (a - b), as a number: lags fit comfortably below 2^53. */
export const lsnDistance = (a: string, b: string): number => Number(parseLsn(a) - parseLsn(b));

/** The later of two LSNs (either may be missing). */
export function laterLsn(a: string | null | undefined, b: string | null | undefined): string | null {
  if (!a) return b ?? null;
  if (!b) return a;
  return parseLsn(a) >= parseLsn(b) ? a : b;
}

/**
 * SQL for a primary's current timeline: the first 8 hex digits of its current WAL file name (the
 * control file's timeline lags until the first checkpoint after a promotion).
 */
export const CURRENT_TIMELINE_SQL = `('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int`;
