// Did a quantity change between two sets of runs, by enough to matter? The test `emp find` bisects
// with and `emp compare-commits` gates on: Mann-Whitney at alpha, and the ratio of medians (with its
// bootstrap interval) at least `minChangePct` away from 1, so that a tiny but consistent shift on a
// quiet machine is not called a change.
import { mannWhitneyU } from "./mann-whitney.js";
import { ratioOfMedians } from "./ratio.js";

export interface StepChange {
  /** median(after) / median(before); null where median(before) is not above 0. */
  ratio: number | null;
  ratio_ci95: [number, number] | null;
  /** (ratio - 1) x 100. */
  change_pct: number | null;
  /** Two-sided Mann-Whitney p of after against before. */
  p_value: number;
  /** p < alpha and the change is at least minChangePct either way. */
  significant: boolean;
}

export function stepChange(
  before: readonly number[],
  after: readonly number[],
  alpha: number,
  minChangePct: number,
): StepChange {
  const p = mannWhitneyU(after, before).pValue;
  const ratio = ratioOfMedians(after, before);
  const changePct = ratio === null ? null : (ratio.ratio - 1) * 100;
  return {
    ratio: ratio?.ratio ?? null,
    ratio_ci95: ratio === null ? null : [ratio.ci[0], ratio.ci[1]],
    change_pct: changePct,
    p_value: p,
    significant: p < alpha && changePct !== null && Math.abs(changePct) >= minChangePct,
  };
}
