// PostgreSQL LSNs ("16/B374D848") as byte positions, to measure WAL distances.
export function lsnToBigInt(lsn: string): bigint {
  const m = /^([0-9A-F]+)\/([0-9A-F]+)$/i.exec(lsn.trim());
  if (!m) throw new Error(`not an LSN: "${lsn}"`);
  return (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`);
}

/** a - b in bytes (negative when b is ahead). */
export const lsnDiff = (a: string, b: string) => Number(lsnToBigInt(a) - lsnToBigInt(b));
