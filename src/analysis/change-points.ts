// Change points along a history: the commits after which the energy level shifts, found by circular
// binary segmentation (Olshen, Venkatraman, Lucito and Wigler 2004) with the Mann-Whitney test as
// its statistic.
//
// Why this method: a study has few commits, each with a handful of runs, and energy per run is
// skewed with outliers. A rank test makes no assumption on the shape of the runs and gives a p-value
// a person can read; PELT or CUSUM on means need a penalty or threshold calibrated on the noise and
// a normal cost, which a few runs cannot estimate. Pooling every run on each side of a split finds a
// level shift built up of steps too small for the test between neighbouring commits. The circular
// form tests a stretch of commits against the rest of the segment, not only a split in two: plain
// binary segmentation misses a change that is undone a few commits later (4 J, 8 J, 4 J), because
// each single split mixes the raised stretch with the unchanged commits on its far side.
import { uPValue } from "./mann-whitney.js";
import { midRanks } from "./ranks.js";

export interface ChangePointOptions {
  /** Significance level of each step, after the Bonferroni factor for the candidates scanned. */
  alpha: number;
  /** Fewest commits in a level. Default 1: a commit that alone changes energy counts. */
  minSegment?: number;
}

export interface ChangePoint {
  /** Index (in history order) of the first commit of the new level. */
  index: number;
  /** Mann-Whitney p-value of the stretch that this boundary opens or closes against the rest of its segment. */
  pValue: number;
  /** pValue times the number of candidates scanned in that segment, capped at 1. */
  pAdjusted: number;
  /** Bounds of the segment scanned, [start, end) in history order. */
  segment: readonly [start: number, end: number];
}

/**
 * In a segment of commits, every stretch [i, j) with i past the segment's first commit is tested
 * against the rest of the segment (runs inside against runs outside; a stretch reaching the end is a
 * plain split at i). Each of these is a different way to cut the segment, read as a circle, into two
 * arcs. The stretch with the smallest p-value is kept when that p-value times the number of stretches
 * tried (Bonferroni, since the best of many is kept) is below alpha: its bounds inside the segment are
 * change points, and each piece is searched the same way. Every piece keeps at least minSegment
 * commits. `runsByCommit[i]` holds the runs of the i-th commit in history order; the result is in
 * history order.
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
    if (end - start < 2 * minSegment) return;
    // Rank the segment's runs once; the rank sum of any stretch is then a difference of prefix sums.
    const pooled = runsByCommit.slice(start, end).flat();
    const { ranks, ties } = midRanks(pooled);
    const rankPrefix = [0];
    const countPrefix = [0];
    let at = 0;
    for (let c = start; c < end; c++) {
      let sum = 0;
      const count = (runsByCommit[c] as readonly number[]).length;
      for (let r = 0; r < count; r++) sum += ranks[at + r] as number;
      at += count;
      rankPrefix.push((rankPrefix.at(-1) as number) + sum);
      countPrefix.push((countPrefix.at(-1) as number) + count);
    }
    const total = pooled.length;
    let best: { i: number; j: number; pValue: number } | undefined;
    let candidates = 0;
    for (let i = start + minSegment; i < end; i++) {
      for (let j = i + minSegment; j <= end; j++) {
        if (j < end && end - j < minSegment) continue;
        candidates++;
        const inside = (countPrefix[j - start] as number) - (countPrefix[i - start] as number);
        const outside = total - inside;
        if (inside === 0 || outside === 0) continue;
        const rankSum = (rankPrefix[j - start] as number) - (rankPrefix[i - start] as number);
        const u = rankSum - (inside * (inside + 1)) / 2;
        const { pValue } = uPValue(u, inside, outside, ties);
        if (best === undefined || pValue < best.pValue) best = { i, j, pValue };
      }
    }
    if (best === undefined) return;
    const pAdjusted = Math.min(1, best.pValue * candidates);
    if (!(pAdjusted < options.alpha)) return;
    const point = (index: number): ChangePoint => ({
      index,
      pValue: best.pValue,
      pAdjusted,
      segment: [start, end],
    });
    found.push(point(best.i));
    if (best.j < end) found.push(point(best.j));
    search(start, best.i);
    search(best.i, best.j);
    search(best.j, end);
  };
  search(0, runsByCommit.length);
  return found.sort((a, b) => a.index - b.index);
}
