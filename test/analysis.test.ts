// Known answers for the statistics of emp report and emp compare: each expected number is a published
// output of R, SciPy or hyperfine on a textbook dataset, quoted with its source, or an exact value
// derived by hand in a comment, so a test fails if ours drifts from them.
import { median } from "simple-statistics";
import { describe, expect, it } from "vitest";
import {
  attainabilityWarning,
  oneStrayRunPValue,
  repeatsForOneStrayRun,
  repeatsNeeded,
  smallestPValue,
} from "../src/analysis/attainable.js";
import { changePoints } from "../src/analysis/change-points.js";
import { CLIFFS_THRESHOLDS, cliffsDelta, cliffsMagnitude } from "../src/analysis/cliffs-delta.js";
import { cohensD } from "../src/analysis/cohens-d.js";
import { adjustPValues } from "../src/analysis/correction.js";
import { normalCdf, studentTCdf } from "../src/analysis/distributions.js";
import { mannWhitneyU } from "../src/analysis/mann-whitney.js";
import {
  CV_WARNING,
  firstRunIsOutlier,
  MAD_TO_SIGMA,
  modifiedZScores,
  OUTLIER_THRESHOLD,
  outlierIndices,
} from "../src/analysis/outliers.js";
import { midRanks } from "../src/analysis/ranks.js";
import { medianInPlace, type RatioOfMedians, ratioOfMedians } from "../src/analysis/ratio.js";
import { welchTTest } from "../src/analysis/welch.js";
import { InvalidArgumentError } from "../src/errors.js";
import { mulberry32 } from "../src/stats/random.js";

// R's `sleep` data (Cushny & Peebles 1905, as in Student 1908): extra hours of sleep under two drugs.
const SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
const SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];

// Hollander & Wolfe (1973), p. 69: permeability constants of the human chorioamnion, at term (x)
// and between 12 and 26 weeks of gestation (y). The two-sample example of R's ?wilcox.test.
const HW_X = [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
const HW_Y = [1.15, 0.88, 0.9, 0.74, 1.21];

// R's `airquality` (New York, 1973): Ozone (ppb) in May and in August, NAs removed. R's ?wilcox.test
// runs wilcox.test(Ozone ~ Month, data = airquality, subset = Month %in% c(5, 8)).
const OZONE_MAY = [
  41, 36, 12, 18, 28, 23, 19, 8, 7, 16, 11, 14, 18, 14, 34, 6, 30, 11, 1, 11, 4, 32, 23, 45, 115, 37,
];
const OZONE_AUG = [
  39, 9, 16, 78, 35, 66, 122, 89, 110, 44, 28, 65, 22, 59, 23, 31, 44, 21, 9, 45, 168, 73, 76, 118, 84, 85,
];

describe("Mann-Whitney U", () => {
  it("exact, no ties: R's ?wilcox.test Hollander & Wolfe example, W = 35, one-sided p = 0.1272", () => {
    // R: wilcox.test(x, y, alternative = "greater") -> W = 35, p-value = 0.1272. Ours is two-sided,
    // and W lies above n*m/2 = 25, so it is twice the upper tail: 0.2544 (SciPy: 0.2544122544122544).
    const result = mannWhitneyU(HW_X, HW_Y);
    expect(result.method).toBe("exact");
    expect(result.u).toBe(35);
    expect(result.pValue / 2).toBeCloseTo(0.1272, 4);
    expect(result.pValue).toBeCloseTo(0.2544122544122544, 12);
  });

  it("exact, no ties: SciPy's mannwhitneyu docs (males vs females), U = 17, p = 0.1111111111111111", () => {
    // scipy.stats.mannwhitneyu documentation, example after Conover: method="exact".
    const males = [19, 22, 16, 29, 24];
    const females = [20, 11, 17, 12];
    const result = mannWhitneyU(males, females);
    expect(result.method).toBe("exact");
    expect(result.u).toBe(17);
    expect(result.pValue).toBeCloseTo(0.1111111111111111, 14);
    // The other way round U is n*m - 17 = 3 and the p-value the same.
    expect(mannWhitneyU(females, males).u).toBe(3);
    expect(mannWhitneyU(females, males).pValue).toBeCloseTo(0.1111111111111111, 14);
  });

  it("normal approximation with ties: R's ?wilcox.test airquality example, W = 127.5, p = 0.0001208", () => {
    const result = mannWhitneyU(OZONE_MAY, OZONE_AUG);
    expect(result.method).toBe("normal");
    expect(result.u).toBe(127.5);
    expect(result.pValue).toBeCloseTo(0.0001208, 7);
  });

  it("normal approximation with ties: R's wilcox.test(extra ~ group, data = sleep), W = 25.5, p = 0.06933", () => {
    const result = mannWhitneyU(SLEEP_1, SLEEP_2);
    expect(result.u).toBe(25.5);
    expect(result.pValue).toBeCloseTo(0.06933, 5);
  });

  it("normal approximation at 50 values each, far in the tail: z = 8.6138, p = 7.066e-18 (SciPy norm.sf)", () => {
    // Completely separated samples of 50: z = (2500 - 1250 - 0.5) / sqrt(2500 * 101 / 12) = 8.61383,
    // and SciPy's 2 * norm.sf(z) = 7.066071930388932e-18. 1 - Phi(z) would round to 0 here.
    const low = Array.from({ length: 50 }, (_, i) => i);
    const high = Array.from({ length: 50 }, (_, i) => 100 + i);
    const far = mannWhitneyU(high, low);
    expect(far.method).toBe("normal");
    expect(far.u).toBe(2500);
    expect(far.pValue / 7.066071930388932e-18).toBeCloseTo(1, 5);
  });

  it("all values equal: no evidence of a difference", () => {
    expect(mannWhitneyU([4, 4, 4], [4, 4]).pValue).toBe(1);
  });

  it("exact p-value of complete separation of 8 runs against 8 is 2 / C(16, 8)", () => {
    const a = [1, 2, 3, 4, 5, 6, 7, 8];
    const b = [11, 12, 13, 14, 15, 16, 17, 18];
    expect(mannWhitneyU(b, a).pValue).toBeCloseTo(2 / 12870, 15);
  });

  it("mid-ranks as R's rank(): c(10, 20, 20, 30) -> 1, 2.5, 2.5, 4", () => {
    const { ranks, ties } = midRanks([10, 20, 20, 30]);
    expect(Array.from(ranks)).toEqual([1, 2.5, 2.5, 4]);
    expect(ties).toEqual([2]);
  });
});

describe("Welch's t-test", () => {
  it("R's t.test(extra ~ group, data = sleep): t = -1.8608, df = 17.776, p = 0.07939", () => {
    const result = welchTTest(SLEEP_1, SLEEP_2);
    expect(result).not.toBeNull();
    expect(result?.t).toBeCloseTo(-1.8608, 4);
    expect(result?.df).toBeCloseTo(17.776, 3);
    expect(result?.pValue).toBeCloseTo(0.07939, 5);
  });

  it("keeps small p-values in the t tail: 2 P(T_5.3 <= -12) = 4.8215e-5 (SciPy t.cdf)", () => {
    // Two samples whose Welch t is -12 with df 5.3 are awkward to build; check the CDF directly.
    expect((2 * studentTCdf(-12, 5.3)) / 4.821532623546548e-5).toBeCloseTo(1, 9);
    expect(studentTCdf(12, 5.3)).toBeCloseTo(1 - 4.821532623546548e-5 / 2, 14);
    // SciPy: t.cdf(-40, 30) = 6.863022597203209e-28, far beyond what 1 - cdf can reach.
    expect(studentTCdf(-40, 30) / 6.863022597203209e-28).toBeCloseTo(1, 6);
  });

  it("normal CDF across the switch to the tail formula: Phi(-5) = 2.866516e-7, Phi(-10) = 7.619853e-24", () => {
    // R's pnorm(-5), pnorm(-10), pnorm(1.96) (SciPy's norm.cdf agrees to every digit shown).
    expect(normalCdf(-5) / 2.866515718791939e-7).toBeCloseTo(1, 6);
    expect(normalCdf(-5.000001) / 2.866515718791939e-7).toBeCloseTo(1, 4);
    expect(normalCdf(-10) / 7.619853024160527e-24).toBeCloseTo(1, 6);
    expect(normalCdf(1.96)).toBeCloseTo(0.9750021048517795, 12);
  });

  it("is undefined with one value or no spread", () => {
    expect(welchTTest([1], [1, 2])).toBeNull();
    expect(welchTTest([3, 3], [3, 3])).toBeNull();
  });
});

describe("effect sizes", () => {
  it("Cliff's delta: R effsize's cliff.delta example, delta = -0.25 (small)", () => {
    // effsize::cliff.delta(treatment, control) documentation example.
    const treatment = [10, 10, 20, 20, 20, 30, 30, 30, 40, 50];
    const control = [10, 20, 30, 40, 40, 50];
    const delta = cliffsDelta(treatment, control);
    expect(delta).toBeCloseTo(-0.25, 12);
    expect(cliffsMagnitude(delta)).toBe("small");
  });

  it("Cliff's delta equals 2U/(nm) - 1 (Hollander & Wolfe: 2 * 35 / 50 - 1 = 0.4)", () => {
    expect(cliffsDelta(HW_X, HW_Y)).toBeCloseTo(0.4, 12);
  });

  it("magnitudes at Romano et al. (2006)'s thresholds 0.147, 0.33, 0.474", () => {
    expect(CLIFFS_THRESHOLDS).toEqual({ small: 0.147, medium: 0.33, large: 0.474 });
    expect(cliffsMagnitude(0.146)).toBe("negligible");
    expect(cliffsMagnitude(-0.147)).toBe("small");
    expect(cliffsMagnitude(0.329)).toBe("small");
    expect(cliffsMagnitude(0.33)).toBe("medium");
    expect(cliffsMagnitude(-0.474)).toBe("large");
    expect(cliffsMagnitude(1)).toBe("large");
  });

  it("Cohen's d: R effectsize's cohens_d(extra ~ group, data = sleep) = -0.83", () => {
    // Pooled SD: sqrt((9 * 1.789^2 + 9 * 2.002^2) / 18) = 1.8986; d = (0.75 - 2.33) / 1.8986.
    expect(cohensD(SLEEP_1, SLEEP_2)).toBeCloseTo(-0.832181, 5);
    expect(cohensD([2, 2], [2, 2])).toBeNull();
  });
});

describe("multiple-comparison corrections", () => {
  // Benjamini & Hochberg (1995), section 4: fifteen p-values from a study of myocardial infarction
  // treatment. At 0.05, BH rejects the four smallest; Bonferroni-type procedures (Holm) three.
  const BH_1995 = [
    0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.324, 0.4262, 0.5719, 0.6528,
    0.759, 1.0,
  ];

  it("Benjamini & Hochberg (1995)'s example: BH rejects 4 at 0.05, Holm 3", () => {
    const bh = adjustPValues(BH_1995, "bh");
    const holm = adjustPValues(BH_1995, "holm");
    expect(bh.filter((p) => (p as number) < 0.05)).toHaveLength(4);
    expect(holm.filter((p) => (p as number) < 0.05)).toHaveLength(3);
  });

  it("R's p.adjust(c(0.01, 0.02, 0.03, 0.04, 0.05), ...): holm 0.05 0.08 0.09 0.09 0.09, BH all 0.05", () => {
    const p = [0.01, 0.02, 0.03, 0.04, 0.05];
    const holm = adjustPValues(p, "holm") as number[];
    [0.05, 0.08, 0.09, 0.09, 0.09].forEach((v, i) => {
      expect(holm[i]).toBeCloseTo(v, 12);
    });
    for (const v of adjustPValues(p, "bh") as number[]) expect(v).toBeCloseTo(0.05, 12);
  });

  it("keeps input order and leaves nulls out of the family", () => {
    expect(adjustPValues([0.04, null, 0.01], "holm")).toEqual([0.04, null, 0.02]);
  });
});

describe("change points", () => {
  const noisy = (level: number, seed: number) =>
    Array.from({ length: 8 }, (_, i) => level * (1 + 0.01 * Math.sin(seed * 7 + i * 3.1)));

  it("finds a step up and a step back down, and nothing in flat stretches", () => {
    const levels = [4, 4, 4, 8, 8, 4, 4];
    const found = changePoints(
      levels.map((l, i) => noisy(l, i)),
      { alpha: 0.05 },
    );
    expect(found.map((c) => c.index)).toEqual([3, 5]);
    for (const c of found) expect(c.pAdjusted).toBeLessThan(0.05);
  });

  it("finds a change that is undone two commits later (4, 8, 4 J, six runs each)", () => {
    // Every split in two mixes the 8 J commit with a 4 J one; the stretch {1} against {0, 2} is
    // 6 runs against 12, completely separated: exact p = 2 / C(18, 6), times 3 stretches scanned.
    const found = changePoints(
      [4, 8, 4].map((l, i) => noisy(l, i).slice(0, 6)),
      { alpha: 0.05 },
    );
    expect(found.map((c) => c.index)).toEqual([1, 2]);
    expect(found[0]?.pValue).toBeCloseTo(2 / 18564, 12);
    expect(found[0]?.pAdjusted).toBeCloseTo((3 * 2) / 18564, 12);
  });

  it("a history without a shift has no change point", () => {
    expect(changePoints([4, 4, 4, 4, 4].map(noisy), { alpha: 0.05 })).toEqual([]);
  });

  it("respects the minimum segment", () => {
    const found = changePoints([noisy(4, 0), noisy(8, 1), noisy(8, 2), noisy(8, 3)], {
      alpha: 0.05,
      minSegment: 2,
    });
    expect(found.map((c) => c.index)).toEqual([2]);
  });
});

describe("ratio of medians", () => {
  const bounded = (result: RatioOfMedians | null): RatioOfMedians => {
    if (result === null) throw new Error("expected a ratio, got null");
    return result;
  };

  it("constant samples: every resample gives 6 / 4, so the interval is [1.5, 1.5]", () => {
    expect(ratioOfMedians([6, 6, 6], [4, 4, 4, 4])).toEqual({ ratio: 1.5, ci: [1.5, 1.5] });
  });

  it("a bootstrap distribution derived by hand: candidate {1, 3} over reference {2}", () => {
    // A resample of {1, 3} has median 1 (both draws 1: probability 1/4), 2 (one of each: 1/2) or 3
    // (1/4), so the ratio is 0.5, 1 or 1.5 with probabilities 1/4, 1/2, 1/4. The 2.5 % and 97.5 %
    // quantiles fall in the outer quarters (about 2,500 of 10,000 resamples each), the 30 % and
    // 70 % ones in the middle half.
    expect(ratioOfMedians([1, 3], [2])).toEqual({ ratio: 1, ci: [0.5, 1.5] });
    expect(ratioOfMedians([1, 3], [2], { confidence: 0.4 })).toEqual({ ratio: 1, ci: [1, 1] });
  });

  // 20 runs at 10 J and 20 at 15 J, each times 1 + 0.05 sin(.): noise symmetric about 0, so the
  // medians of the populations they stand for are 10 and 15 and the true ratio is 1.5.
  const reference = Array.from({ length: 20 }, (_, i) => 10 * (1 + 0.05 * Math.sin(1.7 * i)));
  const candidate = Array.from({ length: 20 }, (_, i) => 15 * (1 + 0.05 * Math.sin(2.3 * i + 1)));

  it("its interval holds the true ratio 1.5 and excludes 1", () => {
    const result = bounded(ratioOfMedians(candidate, reference));
    const [lo, hi] = result.ci;
    expect(lo).toBeLessThan(1.5);
    expect(hi).toBeGreaterThan(1.5);
    expect(lo).toBeGreaterThan(1);
    expect(lo).toBeLessThanOrEqual(result.ratio);
    expect(hi).toBeGreaterThanOrEqual(result.ratio);
    // 5 % noise on 20 runs: the interval is a few percent wide, not tens.
    expect(hi - lo).toBeLessThan(0.15);
  });

  it("runs 1.5 times the reference's, reordered, give a ratio of exactly 1.5 (a median scales)", () => {
    const scaled = reference.map((_, i) => 1.5 * (reference[(i * 7) % 20] as number));
    expect(ratioOfMedians(scaled, reference)?.ratio).toBeCloseTo(1.5, 14);
  });

  it("the same level on both sides: the interval holds 1", () => {
    const same = Array.from({ length: 20 }, (_, i) => 10 * (1 + 0.05 * Math.sin(2.3 * i + 1)));
    const [lo, hi] = bounded(ratioOfMedians(same, reference)).ci;
    expect(lo).toBeLessThan(1);
    expect(hi).toBeGreaterThan(1);
  });

  it("repeats exactly for a seed, and moves with another", () => {
    const a = ratioOfMedians(candidate, reference, { seed: 42 });
    expect(ratioOfMedians(candidate, reference, { seed: 42 })).toEqual(a);
    expect(ratioOfMedians(candidate, reference, { seed: 43 })?.ci).not.toEqual(a?.ci);
    expect(ratioOfMedians(candidate, reference, { seed: 43 })?.ratio).toBe(a?.ratio);
  });

  it("is null where the reference median is not above 0", () => {
    expect(ratioOfMedians([1, 2], [0, 0, 1])).toBeNull();
    expect(ratioOfMedians([1, 2], [-1, -2, -3])).toBeNull();
  });

  it("is null when too many resamples of the reference have a median at or below 0", () => {
    // Median of {-1, -1, 1, 1, 1} is 1, but a resample's median is -1 when 3 or more of its 5 draws
    // are -1: P(Bin(5, 0.4) >= 3) = 0.31744, far above the 2.5 % the interval leaves out.
    expect(ratioOfMedians([2, 2, 2], [-1, -1, 1, 1, 1])).toBeNull();
    // One non-positive run in 11: a resample's median is not above 0 only when 6 or more of its 11
    // draws are that run, P(Bin(11, 1/11) >= 6) = 1.7e-4; the interval stays bounded.
    const one = [-1, 1, 1.1, 0.9, 1.05, 0.95, 1.02, 0.98, 1.01, 0.99, 1.03];
    expect(ratioOfMedians([2, 2.1, 1.9], one)).not.toBeNull();
  });

  it("throws typed errors on no runs or a non-finite one", () => {
    expect(() => ratioOfMedians([], [1])).toThrow(InvalidArgumentError);
    expect(() => ratioOfMedians([1], [Number.NaN])).toThrow(/non-finite/);
    expect(() => ratioOfMedians([1], [1], { confidence: 1 })).toThrow(InvalidArgumentError);
  });

  it("quickselect's median agrees with a sort's on odd, even and tied lengths", () => {
    const random = mulberry32(3);
    for (let n = 1; n <= 40; n++) {
      const values = Array.from({ length: n }, () => Math.floor(random() * 8));
      expect(medianInPlace(Float64Array.from(values))).toBe(median(values));
    }
  });
});

describe("outliers, hyperfine's rule", () => {
  it("hyperfine's own cases (src/outlier_detection.rs, test_detect_outliers)", () => {
    expect(outlierIndices([50])).toEqual([]);
    expect(outlierIndices([1000, 0])).toEqual([]);
    expect(outlierIndices([-0.2, 0.0, 0.2])).toEqual([]);
    expect(outlierIndices([-0.2, 0.0, 0.2, 4.0])).toEqual([3]);
    expect(outlierIndices([0.5, 0.3, 0.29, 0.31, 0.3])).toEqual([0]);
    const normal = [
      2.33269488, 1.42195907, -0.57527698, -0.31293437, 2.2948158, 0.75813273, -1.0712388, -0.96394741,
      -1.15897446, 1.10976285,
    ];
    expect(outlierIndices(normal)).toEqual([]);
    expect(outlierIndices([...normal, 20.0, -500.0])).toEqual([10, 11]);
    // test_detect_outliers_if_mad_becomes_0
    expect(outlierIndices([10, 10, 10, 10, 10, 10, 10, 100])).toEqual([7]);
    expect(outlierIndices([10, 10, 10, 10, 10, 10, 10, 100, 100])).toEqual([7, 8]);
  });

  it("scores (x - median) / (1.4826 MAD): {1, 2, 3, 4, 100} has median 3 and MAD 1", () => {
    // Deviations from 3: 2, 1, 0, 1, 97; their median is 1.
    const scores = modifiedZScores([1, 2, 3, 4, 100]);
    [-2, -1, 0, 1, 97].forEach((d, i) => {
      expect(scores[i]).toBeCloseTo(d / 1.4826, 12);
    });
    // hyperfine's bound, 1.4826 * 10.0 on (x - median) / MAD, is ours on this scale.
    expect(OUTLIER_THRESHOLD * MAD_TO_SIGMA).toBeCloseTo(14.826, 12);
  });

  it("a zero MAD scores the median 0 and anything else infinite, never NaN", () => {
    expect(modifiedZScores([5, 5, 5, 6, 4])).toEqual([
      0,
      0,
      0,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ]);
    expect(modifiedZScores([7, 7])).toEqual([0, 0]);
  });

  it("flags a first run above the rest, not one below (hyperfine: scores[0] > OUTLIER_THRESHOLD)", () => {
    // Median 0.30, MAD 0.01: the first run scores 0.2 / 0.014826 = 13.5.
    expect(firstRunIsOutlier([0.5, 0.3, 0.29, 0.31, 0.3])).toBe(true);
    expect(firstRunIsOutlier([0.1, 0.3, 0.29, 0.31, 0.3])).toBe(false);
    expect(outlierIndices([0.1, 0.3, 0.29, 0.31, 0.3])).toEqual([0]);
    expect(firstRunIsOutlier([0.3, 0.5, 0.29, 0.31, 0.3])).toBe(false);
    expect(firstRunIsOutlier([9])).toBe(false);
    expect(firstRunIsOutlier([0.5, 0.3, 0.29, 0.31, 0.3], 20)).toBe(false);
    expect(() => firstRunIsOutlier([])).toThrow(InvalidArgumentError);
  });

  it("pyperf's spread warning is a coefficient of variation of 10 %", () => {
    expect(CV_WARNING).toBe(0.1);
  });
});

describe("what the Mann-Whitney test can reach", () => {
  it("its smallest p is 2 / C(n + m, n): C(6, 3) = 20 gives 0.1, C(12, 6) = 924 gives 2 / 924", () => {
    expect(smallestPValue(3, 3)).toBeCloseTo(0.1, 15);
    expect(smallestPValue(6, 6)).toBeCloseTo(2 / 924, 15);
    expect(smallestPValue(4, 4)).toBeCloseTo(2 / 70, 15);
    // C(8, 3) = 56; one run against one can never differ: 2 / C(2, 1) = 1.
    expect(smallestPValue(3, 5)).toBeCloseTo(2 / 56, 15);
    expect(smallestPValue(1, 1)).toBe(1);
    // What the test itself says of completely separated runs.
    expect(smallestPValue(3, 3)).toBe(mannWhitneyU([4, 5, 6], [1, 2, 3]).pValue);
  });

  it("from 50 runs it is the normal approximation's: 50 vs 50 gives 7.066e-18 (SciPy, as above)", () => {
    expect(smallestPValue(50, 50) / 7.066071930388932e-18).toBeCloseTo(1, 5);
  });

  it("one stray run: 6 vs 6 with U = 6 is 2 x 30 / 924, 7 vs 7 with U = 7 is 2 x 45 / 3432", () => {
    // The arrangements with U <= u, u <= n, are the partitions of 0..u: 1 + 1 + 2 + 3 + 5 + 7 + 11
    // = 30 up to 6, + 15 = 45 up to 7.
    expect(oneStrayRunPValue(6, 6)).toBeCloseTo(60 / 924, 15);
    expect(oneStrayRunPValue(7, 7)).toBeCloseTo(90 / 3432, 15);
  });

  it("repeats needed: 4 for one comparison (2 / C(8, 4) = 0.0286), 6 for 11 (11 x 2 / 924 = 0.0238)", () => {
    expect(repeatsNeeded(0.05, 1)).toBe(4);
    // 5 runs: 11 x 2 / 252 = 0.0873 is not below 0.05.
    expect(repeatsNeeded(0.05, 11)).toBe(6);
    // Against one reference run the smallest p is 2 / (r + 1), below 0.05 from r = 40 (2 / 41);
    // against two it is 4 / ((r + 1)(r + 2)), from r = 8 (4 / 90).
    expect(repeatsNeeded(0.05, 1, 1)).toBe(40);
    expect(repeatsNeeded(0.05, 1, 2)).toBe(8);
    // 2 / (r + 1) < 0.01 needs r >= 200, past the exact test's 49; the normal approximation
    // against one run never falls below 2 Phi(-sqrt 3) = 0.083.
    expect(repeatsNeeded(0.01, 1, 1)).toBeNull();
    // Tolerating one stray run: 7 for one comparison (6 gives 0.0649), 9 for 11 (8 gives
    // 11 x 2 x 67 / 12870 = 0.115, 9 gives 11 x 2 x 97 / 48620 = 0.0439).
    expect(repeatsForOneStrayRun(0.05, 1)).toBe(7);
    expect(repeatsForOneStrayRun(0.05, 11)).toBe(9);
  });

  it("warns that 3 vs 3 cannot reach 0.05", () => {
    expect(attainabilityWarning({ alpha: 0.05, comparisons: 1, sizes: [[3, 3]], correction: "holm" })).toBe(
      "with 3 vs 3 runs the Mann-Whitney test cannot reach p < 0.05 (its smallest p is 0.1): no difference " +
        "can show; repeat at least 4 times (--repeat 4); --repeat 7 tolerates one disturbed run",
    );
  });

  it("warns that 6 vs 6 with Holm over 11 reaches 0.05 only if the runs hardly overlap", () => {
    expect(attainabilityWarning({ alpha: 0.05, comparisons: 11, sizes: [[6, 6]], correction: "holm" })).toBe(
      "with 6 vs 6 runs the Mann-Whitney test reaches p < 0.05 after Holm over 11 comparisons only if the " +
        "runs hardly overlap (its smallest p is 0.00216, 0.0238 adjusted; one run beyond all of the other " +
        "group's makes it 0.0649, 0.714 adjusted): a single disturbed run hides any difference; " +
        "--repeat 9 tolerates one disturbed run",
    );
  });

  it("BH: the bound of a lone difference, and how many would have to differ together", () => {
    // 3 vs 10: 2 / C(13, 3) = 2 / 286 = 0.00699, x 11 = 0.0769; two comparisons that extreme
    // adjust to 11 / 2 x 0.00699 = 0.0385 < 0.05.
    const warning = attainabilityWarning({
      alpha: 0.05,
      comparisons: 11,
      sizes: [
        [10, 10],
        [3, 10],
      ],
      correction: "bh",
    });
    expect(warning).toMatch(/^with 3 vs 10 runs .* cannot reach p < 0.05 after BH over 11 comparisons/);
    expect(warning).toMatch(/0\.00699, 0\.0769 adjusted when it differs alone/);
    expect(warning).toMatch(/a difference shows only if at least 2 of the 11 are as extreme/);
  });

  it("says nothing where the runs allow a difference with a stray run: 10 vs 10, 7 vs 7 alone", () => {
    expect(
      attainabilityWarning({ alpha: 0.05, comparisons: 11, sizes: [[10, 10]], correction: "holm" }),
    ).toBeNull();
    expect(
      attainabilityWarning({ alpha: 0.05, comparisons: 1, sizes: [[7, 7]], correction: "bh" }),
    ).toBeNull();
    expect(attainabilityWarning({ alpha: 0.05, comparisons: 1, sizes: [], correction: "holm" })).toBeNull();
  });
});
