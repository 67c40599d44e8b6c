// Welch's unequal-variances t-test, two-sided: do the two samples have different means? It does not
// assume equal variances, which runs of two commits seldom have.
import { mean, sampleVariance } from "simple-statistics";
import { studentTCdf } from "./distributions.js";

export interface WelchResult {
  t: number;
  /** Welch-Satterthwaite degrees of freedom. */
  df: number;
  /** Two-sided p-value. */
  pValue: number;
}

/**
 * Welch's t-test of mean(x) - mean(y), as R's t.test(x, y) (var.equal = FALSE). Null where it is
 * undefined: fewer than two values in a sample, or both samples without any spread (the standard
 * error is 0 and t is not a number; R stops with "data are essentially constant").
 */
export function welchTTest(x: readonly number[], y: readonly number[]): WelchResult | null {
  const n = x.length;
  const m = y.length;
  if (n < 2 || m < 2) return null;
  const seX2 = sampleVariance(x as number[]) / n;
  const seY2 = sampleVariance(y as number[]) / m;
  const se2 = seX2 + seY2;
  if (!(se2 > 0)) return null;
  const t = (mean(x as number[]) - mean(y as number[])) / Math.sqrt(se2);
  const df = (se2 * se2) / ((seX2 * seX2) / (n - 1) + (seY2 * seY2) / (m - 1));
  // From the lower tail at -|t|: 1 - cdf(|t|) would round small p-values to 0.
  const pValue = Math.min(1, 2 * studentTCdf(-Math.abs(t), df));
  return { t, df, pValue };
}
