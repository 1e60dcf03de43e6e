// What the history pages share: the regression rule (the latest figure against the median of the
// ones before it) and the aligned terminal table.

/** The latest figure regressed when it is more than this much above the median of the earlier ones. */
export const REGRESSION_RATIO = 1.2;

export interface Regression {
  latestMs: number;
  medianMs: number;
  regressed: boolean;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The latest time against the median of the ones before it; undefined with fewer than two. */
export function regressionOf(times: number[]): Regression | undefined {
  if (times.length < 2) return undefined;
  const latestMs = times.at(-1)!;
  const medianMs = median(times.slice(0, -1));
  return { latestMs, medianMs, regressed: latestMs > medianMs * REGRESSION_RATIO };
}

export const percent = (x: number) => `${Math.round(x * 100)}%`;

/** Rows of cells as lines with aligned columns, indented by two spaces. */
export function aligned(table: string[][]): string[] {
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  return table.map(
    (r) =>
      '  ' +
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
  );
}

/** A date-time as `2025-03-01 10:15` (UTC, as recorded). */
export const minute = (iso: string) => iso.slice(0, 16).replace('T', ' ');
