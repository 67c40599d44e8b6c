// Statistics over repeated runs of one quantity (energy per run in J, or duration per run in s): the
// numbers SPEC section 5 reports per domain, with a bootstrap interval that repeats for a given seed.
import { mean, median, quantileSorted, sampleStandardDeviation } from "simple-statistics";
import { InvalidArgumentError } from "../errors.js";
import { mulberry32 } from "./random.js";

export interface SummaryOptions {
  /** Coverage of the confidence interval, strictly between 0 and 1. Default 0.95. */
  confidence?: number;
  /** Bootstrap resamples. Default 10000. */
  resamples?: number;
  /** Seed of the resampling generator; the default is fixed so a report repeats exactly. */
  seed?: number;
}

/** What repeated runs say about one quantity, in the unit of the values given. */
export interface Summary {
  n: number;
  mean: number;
  median: number;
  /** Sample standard deviation (divides by n - 1); null with one run. */
  stdev: number | null;
  /** Coefficient of variation, stdev / |mean|; null with one run or a mean of exactly 0. */
  cv: number | null;
  /**
   * Percentile-bootstrap confidence interval of the MEAN: the mean is what energy comparisons
   * report, and its resampling distribution is smooth where the median's jumps between data points
   * on the few runs a measurement usually has. With one run, or all runs equal, it is [x, x].
   */
  ci: readonly [lo: number, hi: number];
  /** The coverage `ci` was computed for. */
  confidence: number;
  min: number;
  max: number;
}

export const DEFAULT_CONFIDENCE = 0.95;
export const DEFAULT_RESAMPLES = 10_000;
export const DEFAULT_SEED = 0x5eed_e4e7;

/**
 * Summarises repeated runs. Throws InvalidArgumentError on no values (there is nothing to report,
 * and a summary of nulls would hide the mistake upstream), on a NaN or infinite value (a broken
 * reading must not pass as a number), and on options out of range.
 */
export function summarize(values: readonly number[], options: SummaryOptions = {}): Summary {
  const { confidence, resamples, seed } = bootstrapOptions(options);

  const n = values.length;
  if (n === 0) {
    throw invalid("cannot summarise zero runs", "Measure at least one run before asking for statistics.");
  }
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const value = values[i] as number;
    if (!Number.isFinite(value)) {
      throw invalid(
        `run ${i} has a non-finite value (${value})`,
        "A NaN or infinite energy or duration means a reading failed; look at that run's warnings.",
      );
    }
    if (value < min) min = value;
    if (value > max) max = value;
  }

  const meanValue = mean(values);
  const stdev = n < 2 ? null : sampleStandardDeviation(values);
  return {
    n,
    mean: meanValue,
    median: median(values),
    stdev,
    cv: stdev === null || meanValue === 0 ? null : stdev / Math.abs(meanValue),
    ci: min === max ? [min, min] : bootstrapMeanCi(values, confidence, resamples, seed, min, max),
    confidence,
    min,
    max,
  };
}

/**
 * Percentile bootstrap of the mean. One buffer holds the data and one the resample means, so the
 * resampling loop allocates nothing however many resamples are asked for.
 */
function bootstrapMeanCi(
  values: readonly number[],
  confidence: number,
  resamples: number,
  seed: number,
  min: number,
  max: number,
): [number, number] {
  const n = values.length;
  const data = Float64Array.from(values);
  const means = new Float64Array(resamples);
  const random = mulberry32(seed);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += data[Math.floor(random() * n)] as number;
    means[r] = sum / n;
  }
  means.sort();
  const sorted = Array.from(means);
  const tail = (1 - confidence) / 2;
  // A mean of resampled values lies within [min, max]; clamping removes rounding that strays outside.
  const lo = Math.min(Math.max(quantileSorted(sorted, tail), min), max);
  const hi = Math.min(Math.max(quantileSorted(sorted, 1 - tail), min), max);
  return [lo, hi];
}

/** A bootstrap's options with their defaults, checked: throws InvalidArgumentError when out of range. */
export function bootstrapOptions(options: SummaryOptions): Required<SummaryOptions> {
  const confidence = options.confidence ?? DEFAULT_CONFIDENCE;
  const resamples = options.resamples ?? DEFAULT_RESAMPLES;
  const seed = options.seed ?? DEFAULT_SEED;
  if (!(confidence > 0 && confidence < 1)) {
    throw invalid(`confidence must lie strictly between 0 and 1, got ${confidence}`);
  }
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw invalid(`resamples must be a positive integer, got ${resamples}`);
  }
  if (!Number.isFinite(seed)) throw invalid(`seed must be a finite number, got ${seed}`);
  return { confidence, resamples, seed };
}

function invalid(message: string, suggestion?: string): InvalidArgumentError {
  return new InvalidArgumentError("E_INVALID_ARGUMENT", message, suggestion ? { suggestion } : {});
}
