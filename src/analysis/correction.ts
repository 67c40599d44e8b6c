// Corrections for testing many comparisons at once: a study of 50 commits makes 49 comparisons per
// domain, and at alpha = 0.05 about two and a half of them would look significant by chance alone.

/**
 * holm: Holm-Bonferroni, controls the family-wise error rate (the chance of any false alarm) and is
 * never less powerful than plain Bonferroni. bh: Benjamini-Hochberg, controls the false discovery
 * rate (the expected share of false alarms among the changes reported), more powerful on long
 * histories where many commits change energy.
 */
export type Correction = "holm" | "bh";

export const CORRECTIONS: readonly Correction[] = ["holm", "bh"];

/**
 * Adjusted p-values in input order, as R's p.adjust(p, method = "holm" | "BH"): a comparison is
 * significant at level alpha when its adjusted p-value is below alpha. Nulls (tests that could not
 * be computed) stay null and do not count in the family.
 */
export function adjustPValues(pValues: readonly (number | null)[], method: Correction): (number | null)[] {
  const present = pValues
    .map((p, i) => ({ p, i }))
    .filter((e): e is { p: number; i: number } => e.p !== null && Number.isFinite(e.p));
  const count = present.length;
  const out: (number | null)[] = pValues.map(() => null);
  if (method === "holm") {
    // Ascending: the k-th smallest (0-based) is multiplied by count - k, then made non-decreasing.
    present.sort((a, b) => a.p - b.p);
    let running = 0;
    present.forEach((e, k) => {
      running = Math.max(running, Math.min(1, (count - k) * e.p));
      out[e.i] = running;
    });
  } else {
    // Descending: the k-th smallest (1-based rank r) is multiplied by count / r, then made
    // non-increasing from the largest down.
    present.sort((a, b) => b.p - a.p);
    let running = 1;
    present.forEach((e, k) => {
      const rank = count - k;
      running = Math.min(running, (count / rank) * e.p);
      out[e.i] = Math.min(1, running);
    });
  }
  return out;
}
