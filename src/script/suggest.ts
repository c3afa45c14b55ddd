/** Words longer than this get no "did you mean": no name or id a script uses is that long. */
export const MAX_SUGGEST_LENGTH = 100;
/** Candidates looked at per word, in the order given: a script's ids, at most. */
export const MAX_CANDIDATES = 1000;

/**
 * How much work "did you mean" may still do, counted in cells of the edit-distance table (a
 * cell is a few nanoseconds). Hints share one budget per validation, so their total cost is
 * bounded however many findings ask for one; when it runs out, the remaining hints are skipped.
 */
export interface SuggestBudget {
  cells: number;
}

/** Three rows of the edit-distance table, reused for every candidate of one word. */
type Rows = [Int32Array, Int32Array, Int32Array];

/**
 * Optimal-string-alignment distance (Levenshtein plus swapping two adjacent characters), or
 * undefined as soon as it must exceed `cutoff`. Only the band of cells within `cutoff` of the
 * diagonal is computed (a cell off it is at least that far), and charged to `budget`.
 */
function distance(
  a: string,
  b: string,
  cutoff: number,
  rows: Rows,
  budget: SuggestBudget,
): number | undefined {
  const m = a.length;
  const n = b.length;
  if (Math.abs(m - n) > cutoff) return undefined;
  const far = cutoff + 1;
  let [beforePrevious, previous, current] = rows;
  for (let j = 0; j <= Math.min(n, cutoff); j++) previous[j] = j;
  if (cutoff + 1 <= n) previous[cutoff + 1] = far;
  let previousMin = 0;
  for (let i = 1; i <= m; i++) {
    const low = Math.max(1, i - cutoff);
    const high = Math.min(n, i + cutoff);
    current[low - 1] = low === 1 ? i : far;
    let currentMin = current[low - 1]!;
    const ai = a.charCodeAt(i - 1);
    for (let j = low; j <= high; j++) {
      const bj = b.charCodeAt(j - 1);
      let d = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (ai === bj ? 0 : 1));
      if (i > 1 && j > 1 && ai === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === bj)
        d = Math.min(d, beforePrevious[j - 2]! + 1);
      current[j] = d;
      if (d < currentMin) currentMin = d;
    }
    if (high + 1 <= n) current[high + 1] = far;
    budget.cells -= high - low + 1;
    // A row draws on the two rows before it (a swap reaches back two): once both exceed the
    // cutoff, every later row does too.
    if (currentMin > cutoff && previousMin > cutoff) return undefined;
    [beforePrevious, previous, current] = [previous, current, beforePrevious];
    previousMin = currentMin;
  }
  const d = previous[n]!;
  return d > cutoff ? undefined : d;
}

/**
 * The candidate `word` was most likely meant to be, for "did you mean …?" hints; undefined when
 * none is close. Case is ignored, so a case-only difference always suggests. The work is bounded:
 * words past MAX_SUGGEST_LENGTH, candidates past MAX_CANDIDATES and cells past `budget` are not
 * looked at (the budget is spent by what is computed).
 */
export function suggest(
  word: string,
  candidates: readonly string[],
  budget: SuggestBudget = { cells: Number.POSITIVE_INFINITY },
): string | undefined {
  const considered = candidates.length > MAX_CANDIDATES ? candidates.slice(0, MAX_CANDIDATES) : candidates;
  const lower = word.toLowerCase();
  for (const candidate of considered) {
    if (candidate.length === word.length && candidate.toLowerCase() === lower) return candidate;
  }
  if (lower.length > MAX_SUGGEST_LENGTH) return undefined;
  const threshold = Math.max(2, Math.floor(word.length / 3));
  const size = MAX_SUGGEST_LENGTH + 2;
  const rows: Rows = [new Int32Array(size), new Int32Array(size), new Int32Array(size)];
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of considered) {
    if (budget.cells <= 0) break;
    if (Math.abs(word.length - candidate.length) > threshold) continue;
    const other = candidate.toLowerCase();
    if (other.length > MAX_SUGGEST_LENGTH) continue;
    // Only a candidate closer than the best so far can win (the first of equals stays).
    const d = distance(lower, other, Math.min(threshold, bestDistance - 1), rows, budget);
    // A distance as long as the words themselves means nothing in common ("ab" → "IF").
    if (d === undefined || (d > 0 && d >= Math.max(word.length, candidate.length))) continue;
    best = candidate;
    bestDistance = d;
  }
  return best;
}
