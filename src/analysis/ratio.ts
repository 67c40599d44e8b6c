// The ratio of two commands' median energy (or duration) per run, with a bootstrap interval: what
// `emp compare` reports as "B uses 1.48x the energy of A". A ratio reads the same at any scale, and
// medians are not pulled by the odd disturbed run.
import { quantileSorted } from "simple-statistics";
import { InvalidArgumentError } from "../errors.js";
import { mulberry32 } from "../stats/random.js";
import { bootstrapOptions } from "../stats/summary.js";

export interface RatioOptions {
  /** Coverage of the interval, strictly between 0 and 1. Default 0.95. */
  confidence?: number;
  /** Bootstrap resamples. Default 10000. */
  resamples?: number;
  /** Seed of the resampling generator; the default is fixed so that a comparison repeats exactly. */
  seed?: number;
}

export interface RatioOfMedians {
  /** median(candidate) / median(reference), unitless. */
  ratio: number;
  /** Percentile-bootstrap interval of the ratio at the coverage asked for. */
  ci: readonly [lo: number, hi: number];
}

/**
 * median(candidate) / median(reference) with a percentile-bootstrap interval. The two samples are
 * resampled independently (a two-sample bootstrap): the runs of two commands are not paired, even
 * when interleaved, since run i of one and run i of the other saw different moments of the machine.
 *
 * Null when the ratio means nothing: the reference median is not above 0, or so many resamples of
 * the reference have a median at or below 0 that an end of the interval is unbounded (about
 * (1 - confidence) / 2 of them, the tail the percentile cut leaves out). A resample whose reference
 * median is not above 0 counts as +Infinity (-Infinity when its candidate median is below 0), the
 * value the ratio runs off to as the reference median falls to 0. Net energy (minus the idle
 * baseline) of a command that does almost nothing has a median near 0 or below; the caller should
 * then show the two medians and their difference in J rather than a ratio, and say that the
 * reference uses too little energy above idle for a ratio.
 *
 * Throws InvalidArgumentError on an empty sample, a non-finite value or options out of range.
 */
export function ratioOfMedians(
  candidate: readonly number[],
  reference: readonly number[],
  options: RatioOptions = {},
): RatioOfMedians | null {
  const { confidence, resamples, seed } = bootstrapOptions(options);
  const candidateData = checkedSample(candidate, "candidate");
  const referenceData = checkedSample(reference, "reference");

  const n = candidateData.length;
  const m = referenceData.length;
  const candidateBuffer = new Float64Array(n);
  const referenceBuffer = new Float64Array(m);
  candidateBuffer.set(candidateData);
  referenceBuffer.set(referenceData);
  const referenceMedian = medianInPlace(referenceBuffer);
  if (!(referenceMedian > 0)) return null;
  const ratio = medianInPlace(candidateBuffer) / referenceMedian;

  // The loop reuses these buffers: nothing is allocated per resample.
  const ratios = new Float64Array(resamples);
  const random = mulberry32(seed);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) candidateBuffer[i] = candidateData[Math.floor(random() * n)] as number;
    for (let j = 0; j < m; j++) referenceBuffer[j] = referenceData[Math.floor(random() * m)] as number;
    const top = medianInPlace(candidateBuffer);
    const bottom = medianInPlace(referenceBuffer);
    ratios[r] = bottom > 0 ? top / bottom : top < 0 ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  ratios.sort();
  // The same quantile rule as the interval of the mean (src/stats/summary.ts).
  const sorted = Array.from(ratios);
  const tail = (1 - confidence) / 2;
  const lo = quantileSorted(sorted, tail);
  const hi = quantileSorted(sorted, 1 - tail);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return null;
  return { ratio, ci: [lo, hi] };
}

function checkedSample(values: readonly number[], name: string): Float64Array {
  if (values.length === 0) {
    throw invalid(`the ${name} has no runs`, "Measure at least one run of each command.");
  }
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as number;
    if (!Number.isFinite(value)) {
      throw invalid(
        `run ${i} of the ${name} has a non-finite value (${value})`,
        "A NaN or infinite energy or duration means a reading failed; look at that run's warnings.",
      );
    }
  }
  return Float64Array.from(values);
}

/**
 * The median of `buffer`, reordering it: quickselect (Hoare's FIND) puts the lower middle element
 * in place, everything below it on its left; with an even length the upper middle is the smallest
 * element on its right. O(n) on average, where sorting every resample would be O(n log n).
 */
export function medianInPlace(buffer: Float64Array): number {
  const n = buffer.length;
  const k = (n - 1) >> 1;
  const lower = select(buffer, k);
  if (n % 2 === 1) return lower;
  let upper = buffer[k + 1] as number;
  for (let i = k + 2; i < n; i++) {
    const v = buffer[i] as number;
    if (v < upper) upper = v;
  }
  return (lower + upper) / 2;
}

/** Reorders `a` so that a[k] holds its k-th smallest value (0-based), smaller ones before it. */
function select(a: Float64Array, k: number): number {
  let left = 0;
  let right = a.length - 1;
  while (right > left) {
    // Median of three as the pivot: sorted or constant resamples do not make it quadratic.
    const mid = (left + right) >> 1;
    const x = a[left] as number;
    const y = a[mid] as number;
    const z = a[right] as number;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = left;
    let j = right;
    while (i <= j) {
      while ((a[i] as number) < pivot) i++;
      while ((a[j] as number) > pivot) j--;
      if (i <= j) {
        const t = a[i] as number;
        a[i] = a[j] as number;
        a[j] = t;
        i++;
        j--;
      }
    }
    // Now a[left..j] <= pivot <= a[i..right], and a[j+1..i-1] (if any) equal the pivot.
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return a[k] as number;
  }
  return a[k] as number;
}

function invalid(message: string, suggestion?: string): InvalidArgumentError {
  return new InvalidArgumentError("E_INVALID_ARGUMENT", message, suggestion ? { suggestion } : {});
}
