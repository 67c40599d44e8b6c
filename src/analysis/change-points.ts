// Change points along a history: the commits after which the energy level shifts and stays shifted,
// found by binary segmentation with the Mann-Whitney test.
//
// Why this method: a study has few commits, each with a handful of runs, and energy per run is
// skewed with outliers. A rank test makes no assumption on the shape of the runs and gives a p-value
// a person can read. PELT or CUSUM on means need a penalty or threshold calibrated on the noise and
// a normal cost, which a few runs cannot estimate. Binary segmentation pools every run on each side
// of a candidate split, so it also finds a level shift built up of steps too small for the test
// between neighbouring commits.
import { mannWhitneyU } from "./mann-whitney.js";

export interface ChangePointOptions {
  /** Significance level of each split, after the Bonferroni factor for the splits scanned. */
  alpha: number;
  /** Fewest commits on each side of a split. Default 1: a commit that alone changes energy counts. */
  minSegment?: number;
}

export interface ChangePoint {
  /** Index (in history order) of the first commit of the new level. */
  index: number;
  /** Mann-Whitney p-value of the runs before against the runs after, within the segment scanned. */
  pValue: number;
  /** pValue times the number of splits scanned in that segment, capped at 1. */
  pAdjusted: number;
  /** Bounds of the segment scanned, [start, end) in history order. */
  segment: readonly [start: number, end: number];
}

/**
 * Binary segmentation: in a segment of commits, every split leaving minSegment commits on each side
 * is tested (runs before against runs after); the split with the smallest p-value is kept when that
 * p-value times the number of splits tried (Bonferroni, since the best of many splits is kept) is
 * below alpha, and both halves are searched the same way. `runsByCommit[i]` holds the runs of the
 * i-th commit in history order. Returns the change points in history order.
 */
export function changePoints(
  runsByCommit: readonly (readonly number[])[],
  options: ChangePointOptions,
): ChangePoint[] {
  const minSegment = options.minSegment ?? 1;
  if (!Number.isInteger(minSegment) || minSegment < 1) {
    throw new RangeError(`minSegment must be a whole number of commits, at least 1; got ${minSegment}`);
  }
  const found: ChangePoint[] = [];
  const search = (start: number, end: number): void => {
    const candidates = end - start - 2 * minSegment + 1;
    if (candidates < 1) return;
    let best: { index: number; pValue: number } | undefined;
    for (let k = start + minSegment; k <= end - minSegment; k++) {
      const before = runsByCommit.slice(start, k).flat();
      const after = runsByCommit.slice(k, end).flat();
      if (before.length === 0 || after.length === 0) continue;
      const { pValue } = mannWhitneyU(before, after);
      if (best === undefined || pValue < best.pValue) best = { index: k, pValue };
    }
    if (best === undefined) return;
    const pAdjusted = Math.min(1, best.pValue * candidates);
    if (!(pAdjusted < options.alpha)) return;
    found.push({ index: best.index, pValue: best.pValue, pAdjusted, segment: [start, end] });
    search(start, best.index);
    search(best.index, end);
  };
  search(0, runsByCommit.length);
  return found.sort((a, b) => a.index - b.index);
}
