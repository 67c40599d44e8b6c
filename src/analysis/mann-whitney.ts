// The Mann-Whitney U test (Wilcoxon rank-sum), two-sided: does one sample tend to hold larger values
// than the other? It makes no assumption on the shape of the distributions, which suits energy per
// run (skewed, with outliers when the machine is disturbed).
import { InvalidArgumentError } from "../errors.js";
import { normalCdf } from "./distributions.js";
import { midRanks } from "./ranks.js";

export interface MannWhitneyResult {
  /** U of the first sample: the number of pairs (x, y) with x > y, ties counting one half. */
  u: number;
  /** Two-sided p-value. */
  pValue: number;
  /** How the p-value was computed: the exact distribution of U, or the normal approximation. */
  method: "exact" | "normal";
}

/**
 * Sizes below which the exact distribution is used when there are no ties: R's wilcox.test rule
 * (both samples under 50). Above it the normal approximation is accurate to well under 1e-3, and
 * the exact table would grow as n*m*(n+m).
 */
export const EXACT_MAX_SIZE = 50;

/**
 * Two-sided Mann-Whitney U test of `x` against `y`, with R's wilcox.test(x, y, correct = TRUE)
 * semantics: exact p-value when both samples have fewer than 50 values and none are tied; otherwise
 * the normal approximation with the tie correction of the variance and a continuity correction of
 * 1/2. Where every value is equal there is no evidence of a difference: p = 1 (R answers NaN).
 */
export function mannWhitneyU(x: readonly number[], y: readonly number[]): MannWhitneyResult {
  const n = x.length;
  const m = y.length;
  if (n === 0 || m === 0) {
    throw new InvalidArgumentError(
      "E_INVALID_ARGUMENT",
      "the Mann-Whitney test needs values in both samples",
    );
  }
  for (const v of [...x, ...y]) {
    if (!Number.isFinite(v)) {
      throw new InvalidArgumentError(
        "E_INVALID_ARGUMENT",
        `the Mann-Whitney test got a non-finite value (${v})`,
      );
    }
  }
  const { ranks, ties } = midRanks([...x, ...y]);
  let rankSumX = 0;
  for (let i = 0; i < n; i++) rankSumX += ranks[i] as number;
  const u = rankSumX - (n * (n + 1)) / 2;
  return { u, ...uPValue(u, n, m, ties) };
}

/**
 * The two-sided p-value of U for samples of n and m values whose pooled values have tie groups of
 * sizes `ties`: exact without ties when both samples are under EXACT_MAX_SIZE, otherwise the
 * normal approximation with tie and continuity corrections. Exposed for scans that rank a pool once
 * and take U of many splits from rank sums (the change-point search).
 */
export function uPValue(
  u: number,
  n: number,
  m: number,
  ties: readonly number[],
): Pick<MannWhitneyResult, "pValue" | "method"> {
  if (ties.length === 0 && n < EXACT_MAX_SIZE && m < EXACT_MAX_SIZE) {
    return { pValue: exactPValue(u, n, m), method: "exact" };
  }
  const total = n + m;
  const tieTerm = ties.reduce((sum, t) => sum + (t * t * t - t), 0) / (total * (total - 1));
  const sigma = Math.sqrt(((n * m) / 12) * (total + 1 - tieTerm));
  if (sigma === 0) return { pValue: 1, method: "normal" };
  const centred = u - (n * m) / 2;
  const z = (centred - 0.5 * Math.sign(centred)) / sigma;
  return { pValue: Math.min(1, 2 * normalCdf(-Math.abs(z))), method: "normal" };
}

/** Two-sided exact p-value, as R's wilcox.test: twice the smaller tail at the observed U, capped at 1. */
function exactPValue(u: number, n: number, m: number): number {
  const counts = exactUCounts(n, m);
  let total = 0;
  for (const c of counts) total += c;
  let tail = 0;
  if (u > (n * m) / 2) {
    for (let k = Math.ceil(u); k < counts.length; k++) tail += counts[k] as number;
  } else {
    for (let k = 0; k <= Math.floor(u); k++) tail += counts[k] as number;
  }
  return Math.min(1, (2 * tail) / total);
}

const countsCache = new Map<string, Float64Array>();

/**
 * How many of the C(n+m, n) ways to place n x-values among n+m distinct ranks give U = 0..n*m.
 * Built element by element (only additions, so no cancellation when counts pass 2^53): the j-th
 * smallest value, if it is the k-th x, lies above j-k y-values and adds j-k to U.
 */
function exactUCounts(n: number, m: number): Float64Array {
  const key = `${n},${m}`;
  const cached = countsCache.get(key);
  if (cached) return cached;
  const width = n * m + 1;
  // ways[k][u]: ways to have placed k x-values among the elements so far with partial U = u.
  const ways: Float64Array[] = Array.from({ length: n + 1 }, () => new Float64Array(width));
  (ways[0] as Float64Array)[0] = 1;
  for (let j = 1; j <= n + m; j++) {
    // Downwards in k, so that ways[k - 1] still holds the counts before element j (each element is
    // placed once); leaving ways[k] as it was is element j being a y, which adds nothing to U.
    for (let k = Math.min(j, n); k >= 1; k--) {
      const below = j - k;
      if (below > m) break;
      const from = ways[k - 1] as Float64Array;
      const to = ways[k] as Float64Array;
      for (let s = width - 1 - below; s >= 0; s--) {
        const c = from[s] as number;
        if (c !== 0) to[s + below] = (to[s + below] as number) + c;
      }
    }
  }
  const counts = ways[n] as Float64Array;
  countsCache.set(key, counts);
  return counts;
}
