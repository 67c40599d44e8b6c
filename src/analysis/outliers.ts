// Whether one command's runs can be trusted as a set: runs far from the others (hyperfine's rule,
// including its warning that the first run stood out) and a spread too wide for a stable figure
// (pyperf's rule). Both are warnings for a person, not tests.
import { median } from "simple-statistics";
import { InvalidArgumentError } from "../errors.js";

/**
 * Turns a median absolute deviation into an estimate of the standard deviation of normal data:
 * 1 / Phi^-1(3/4). Iglewicz and Hoaglin (1993) write the modified z-score as 0.6745 (x - median) /
 * MAD, the same scale (0.6745 ~ 1 / 1.4826).
 */
export const MAD_TO_SIGMA = 1.4826;

/**
 * A run is an outlier when its modified z-score exceeds 10 in absolute value: 10 standard
 * deviations, estimated robustly. hyperfine's OUTLIER_THRESHOLD (src/outlier_detection.rs,
 * `1.4826 * 10.0`) is the same bound on (x - median) / MAD without the 1.4826.
 */
export const OUTLIER_THRESHOLD = 10;

/**
 * A coefficient of variation (sample standard deviation / mean, summarize(values).cv) at or above
 * this makes pyperf warn that "the benchmark result may be unstable": pyperf/_cli.py format_checks,
 * `if percent >= 10.0` with percent = stdev * 100 / mean, for two values or more.
 */
export const CV_WARNING = 0.1;

/**
 * Modified z-scores, (x - median) / (1.4826 MAD), in input order: how many robustly estimated
 * standard deviations each value lies from the median. Where more than half the values are equal
 * the MAD is 0: values at the median score 0 and every other value +-Infinity, an outlier. That is
 * hyperfine's answer too (it puts f64::EPSILON in place of a zero MAD): when most runs agree to the
 * last digit, a run that does not is unlike them however small its difference.
 * Throws InvalidArgumentError on no values or a non-finite one.
 */
export function modifiedZScores(values: readonly number[]): number[] {
  if (values.length === 0) {
    throw new InvalidArgumentError("E_INVALID_ARGUMENT", "modified z-scores need at least one value");
  }
  for (const v of values) {
    if (!Number.isFinite(v)) {
      throw new InvalidArgumentError("E_INVALID_ARGUMENT", `cannot score a non-finite value (${v})`);
    }
  }
  const centre = median(values as number[]);
  const mad = median(values.map((v) => Math.abs(v - centre)));
  const sigma = MAD_TO_SIGMA * mad;
  return values.map((v) => {
    const deviation = v - centre;
    if (deviation === 0) return 0;
    if (sigma === 0) return deviation > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    return deviation / sigma;
  });
}

/** Indices, ascending, of the values whose |modified z-score| is above `threshold`. */
export function outlierIndices(values: readonly number[], threshold: number = OUTLIER_THRESHOLD): number[] {
  const out: number[] = [];
  modifiedZScores(values).forEach((score, i) => {
    if (Math.abs(score) > threshold) out.push(i);
  });
  return out;
}

/**
 * Whether the first run (values in run order) stands out above the rest, hyperfine's "The first
 * benchmarking run for this command was significantly slower than the rest" (src/benchmark/mod.rs:
 * `scores[0] > OUTLIER_THRESHOLD`). One-sided, as hyperfine's: the first run is the one that fills
 * caches, loads the binary from disk and wakes the frequency governor, so it costs more; a first run
 * that costs less is only an outlier like any other (outlierIndices). Scored among all the runs,
 * the first included. With one or two runs it is never an outlier: two values lie one MAD either
 * side of their median.
 */
export function firstRunIsOutlier(
  valuesInRunOrder: readonly number[],
  threshold: number = OUTLIER_THRESHOLD,
): boolean {
  return (modifiedZScores(valuesInRunOrder)[0] as number) > threshold;
}
