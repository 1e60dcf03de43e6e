// Statistics the benches share.

/** The p-th percentile (0..100) of xs, nearest rank below; NaN for no values. */
export const percentile = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
