// "did you mean ...?" for misspelt keys, kinds and names.
import { closest, distance } from 'fastest-levenshtein';

export function didYouMean(word: string, candidates: readonly string[]): string {
  if (candidates.length === 0) return '';
  const best = closest(word, candidates as string[]);
  const limit = Math.max(2, Math.floor(best.length / 3));
  return distance(word.toLowerCase(), best.toLowerCase()) <= limit ? ` (did you mean "${best}"?)` : '';
}

export const listOf = (values: readonly unknown[]) => values.map((v) => JSON.stringify(v)).join(', ');
