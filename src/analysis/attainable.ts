// What the Mann-Whitney test can possibly say with so few runs: with 3 runs against 3 no ordering
// of the runs gives p < 0.05, so "unchanged" there is no evidence of anything. These bounds let a
// report say so, and say how many runs would do.
import { InvalidArgumentError } from "../errors.js";
import type { Correction } from "./correction.js";
import { uPValue } from "./mann-whitney.js";

/**
 * The most runs the searches below try: emp's own bound on --repeat (MAX_RUNS, src/cli/options.ts).
 * Kept here rather than imported so that the statistics do not depend on the CLI.
 */
const MOST_RUNS = 1_000_000;

/**
 * The smallest two-sided p-value the Mann-Whitney test (src/analysis/mann-whitney.ts) gives for n
 * runs against m: the p of complete separation, U = 0, from the same code the test runs. Without
 * ties and with both samples under EXACT_MAX_SIZE that is 2 / C(n + m, n), the one arrangement out
 * of C(n + m, n) at each extreme; otherwise the normal approximation at U = 0. Runs with tied values
 * take the normal approximation whatever their number, whose tie-corrected p can be a little lower
 * (3 vs 3: 0.081 untied against the exact 0.1); energy readings are seldom tied.
 */
export function smallestPValue(n: number, m: number): number {
  checkRuns(n, m);
  return uPValue(0, n, m, []).pValue;
}

/**
 * The two-sided p-value when the runs are separated but for one run that lies beyond every run of
 * the other group, as a disturbed run does (hyperfine's slow first run): U = max(n, m), the pairs
 * that run puts out of order when it belongs to the smaller group (a run of the larger group puts
 * min(n, m) out of order). It is what a study needs to tolerate one bad run.
 */
export function oneStrayRunPValue(n: number, m: number): number {
  checkRuns(n, m);
  return uPValue(Math.max(n, m), n, m, []).pValue;
}

/**
 * The fewest runs per group such that `comparisons` times smallestPValue is below alpha: the bound
 * of Holm's correction on the smallest p of a family (and of Benjamini-Hochberg's when one
 * comparison alone differs). Groups of equal size, or with `otherRuns` the size of the other group
 * held fixed (a reference measured already). Null when no number of runs up to emp's bound reaches
 * alpha: against one or two fixed runs the normal approximation never falls below about 0.08.
 */
export function repeatsNeeded(alpha: number, comparisons: number, otherRuns?: number): number | null {
  checkFamily(alpha, comparisons);
  if (otherRuns !== undefined) checkRuns(otherRuns, otherRuns);
  return fewestRuns(
    (r) => comparisons * smallestPValue(r, otherRuns ?? r) < alpha,
    (r) => r < 50 && (otherRuns ?? r) < 50,
  );
}

/**
 * The fewest runs per group (equal groups) such that `comparisons` times oneStrayRunPValue is
 * below alpha: enough runs that one disturbed run does not hide a difference. Null past emp's bound.
 */
export function repeatsForOneStrayRun(alpha: number, comparisons: number): number | null {
  checkFamily(alpha, comparisons);
  return fewestRuns(
    (r) => comparisons * oneStrayRunPValue(r, r) < alpha,
    (r) => r < 50,
  );
}

export interface AttainabilityOptions {
  alpha: number;
  /** Comparisons in the family the correction adjusts over; 1 means no correction. */
  comparisons: number;
  /** Runs of the two groups of each comparison, [n, m]; the pair whose bound is worst is judged. */
  sizes: readonly (readonly [n: number, m: number])[];
  correction: Correction;
}

/**
 * A sentence for a person when the comparisons cannot reach alpha, or can only just, or null.
 * Two cases, judged on the pair whose smallest p is the largest (it names its sizes):
 *
 * - cannot: comparisons x smallestPValue >= alpha. No arrangement of the runs is significant.
 * - only without overlap: comparisons x oneStrayRunPValue >= alpha. Significance needs the runs of
 *   the two groups all but completely apart, so one disturbed run (a first run that fills caches, a
 *   moment of background load: the runs hyperfine's outlier warnings are about) turns any real
 *   difference into "unchanged". This rule rather than a fixed factor below alpha because it names
 *   what the user would see fail: 6 vs 6 runs with Holm over 11 comparisons reach 0.0238 at best,
 *   and still 0.0476 with one pair of runs out of order, but 0.714 with one run beyond all six of
 *   the other group's.
 *
 * For Benjamini-Hochberg the bound is Holm's, comparisons x p: exact when one comparison alone
 * differs. BH adjusts less when many differ at once (j comparisons all at p adjust to
 * comparisons / j x p), so for BH the sentence says how many would have to be that extreme.
 */
export function attainabilityWarning(options: AttainabilityOptions): string | null {
  const { alpha, comparisons, sizes, correction } = options;
  checkFamily(alpha, comparisons);
  let worst: { n: number; m: number; p: number } | null = null;
  for (const [n, m] of sizes) {
    const p = smallestPValue(n, m);
    if (worst === null || p > worst.p || (p === worst.p && n + m < worst.n + worst.m)) {
      worst = { n, m, p };
    }
  }
  if (worst === null) return null;
  const { n, m, p } = worst;
  const corrected = comparisons > 1;
  const adjust = (value: number) => Math.min(1, comparisons * value);
  const bh = corrected && correction === "bh";
  const family = corrected ? ` after ${bh ? "BH" : "Holm"} over ${comparisons} comparisons` : "";
  const adjusted = (value: number, first = false) =>
    corrected ? `, ${format(adjust(value))} adjusted${bh && first ? " when it differs alone" : ""}` : "";
  const runs = `with ${n} vs ${m} runs the Mann-Whitney test`;
  const level = `p < ${format(alpha)}`;
  const room = repeatsForOneStrayRun(alpha, comparisons);
  const tolerates = room === null ? "" : `--repeat ${room} tolerates one disturbed run`;
  if (adjust(p) >= alpha) {
    // BH: j comparisons all at p adjust to comparisons / j x p, below alpha once j > comparisons p / alpha.
    const together = Math.floor((comparisons * p) / alpha) + 1;
    const shows =
      bh && p < alpha
        ? `a difference shows only if at least ${together} of the ${comparisons} are as extreme`
        : "no difference can show";
    const needed = repeatsNeeded(alpha, comparisons);
    const fix =
      needed === null
        ? "no number of runs can reach it: compare fewer groups or domains"
        : `repeat at least ${needed} times (--repeat ${needed})${tolerates ? `; ${tolerates}` : ""}`;
    return `${runs} cannot reach ${level}${family} (its smallest p is ${format(p)}${adjusted(p, true)}): ${shows}; ${fix}`;
  }
  const stray = oneStrayRunPValue(n, m);
  if (adjust(stray) >= alpha) {
    return (
      `${runs} reaches ${level}${family} only if the runs hardly overlap (its smallest p is ` +
      `${format(p)}${adjusted(p, true)}; one run beyond all of the other group's makes it ${format(stray)}` +
      `${adjusted(stray)}): a single disturbed run hides any difference${tolerates ? `; ${tolerates}` : ""}`
    );
  }
  return null;
}

/**
 * The fewest r in 1..MOST_RUNS for which `reaches(r)` holds. Where `exact(r)` the exact p-values
 * need not fall steadily with r (the switch to the normal approximation at 50 raises them), so that
 * stretch is scanned; past it the normal approximation's p at a fixed U falls as r grows, and a
 * bisection finds the first r.
 */
function fewestRuns(reaches: (r: number) => boolean, exact: (r: number) => boolean): number | null {
  let r = 1;
  for (; r <= MOST_RUNS && exact(r); r++) if (reaches(r)) return r;
  if (r > MOST_RUNS || !reaches(MOST_RUNS)) return null;
  let lo = r;
  let hi = MOST_RUNS;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (reaches(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Three significant digits, without trailing zeros: 0.1, 0.00216, 0.0238. */
function format(p: number): string {
  return String(Number(p.toPrecision(3)));
}

function checkRuns(n: number, m: number): void {
  for (const size of [n, m]) {
    if (!Number.isInteger(size) || size < 1) {
      throw new InvalidArgumentError(
        "E_INVALID_ARGUMENT",
        `a group needs a whole number of runs, at least 1; got ${size}`,
      );
    }
  }
}

function checkFamily(alpha: number, comparisons: number): void {
  if (!(alpha > 0 && alpha < 1)) {
    throw new InvalidArgumentError(
      "E_INVALID_ARGUMENT",
      `alpha must lie strictly between 0 and 1, got ${alpha}`,
    );
  }
  if (!Number.isInteger(comparisons) || comparisons < 1) {
    throw new InvalidArgumentError(
      "E_INVALID_ARGUMENT",
      `the number of comparisons must be a whole number, at least 1; got ${comparisons}`,
    );
  }
}
