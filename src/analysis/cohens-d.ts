// Cohen's d: the difference of the means in units of the pooled standard deviation, the effect size
// people know from the t-test world; reported beside Cliff's delta, which does not assume normality.
import { mean, sampleVariance } from "simple-statistics";

/**
 * d = (mean(x) - mean(y)) / s_pooled, s_pooled^2 = ((n-1) s_x^2 + (m-1) s_y^2) / (n + m - 2).
 * Null with fewer than two values in a sample or no spread at all (d would divide by 0).
 */
export function cohensD(x: readonly number[], y: readonly number[]): number | null {
  const n = x.length;
  const m = y.length;
  if (n < 2 || m < 2) return null;
  const pooledVariance =
    ((n - 1) * sampleVariance(x as number[]) + (m - 1) * sampleVariance(y as number[])) / (n + m - 2);
  if (!(pooledVariance > 0)) return null;
  return (mean(x as number[]) - mean(y as number[])) / Math.sqrt(pooledVariance);
}
