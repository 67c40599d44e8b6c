// Energy at any instant of the sampler's clock, and of an interval between two instants (a run's
// startNs and endNs from the child runner), read off an EnergySeries.
import { OutOfSpanError } from "../errors.js";
import type { AccountingWarning, EnergySeries, SeriesMethod } from "./series.js";

/** The energy of one domain over [startNs, endNs]. */
export interface IntervalEnergy {
  domain: string;
  channel: string;
  method: SeriesMethod;
  startNs: bigint;
  endNs: bigint;
  durationS: number;
  energyJ: number;
  /** energyJ / durationS, W. */
  powerW: number;
  /** Points (fresh readings) strictly inside the interval. */
  points: number;
  warnings: AccountingWarning[];
}

/**
 * Cumulative energy at `tNs`, J since the series' first reading. Counters: linear between the
 * fresh readings around `tNs` (the counter is only known where it changed, and the energy in
 * between is taken as spent evenly). Gauges: the exact integral of the power interpolated
 * linearly between readings, consistent with the trapezoids. Throws OutOfSpanError outside
 * [first point, last point].
 */
export function energyAtJ(series: EnergySeries, tNs: bigint): number {
  const times = series.pointsNs;
  const energies = series.pointsJ;
  const n = times.length;
  if (n === 0) {
    throw new OutOfSpanError(`${series.name} has no readings`, {
      suggestion: "sample for longer, or check that the source was read (the sampler's readErrors)",
    });
  }
  const first = times[0] as bigint;
  const last = times[n - 1] as bigint;
  if (tNs < first || tNs > last) {
    throw new OutOfSpanError(
      `${series.name}: time ${tNs} ns lies ${tNs < first ? `${first - tNs} ns before the first` : `${tNs - last} ns after the last`} ` +
        `${series.method === "counter" ? "fresh " : ""}reading (span ${first}..${last} ns)`,
      {
        suggestion:
          "start the sampler before the interval and keep it running at least one sensor update period after it",
      },
    );
  }
  const lo = lastAtOrBefore(times, tNs);
  const t0 = times[lo] as bigint;
  const e0 = energies[lo] as number;
  if (t0 === tNs || lo === n - 1) return e0;
  const t1 = times[lo + 1] as bigint;
  const e1 = energies[lo + 1] as number;
  const spanNs = Number(t1 - t0);
  const intoNs = Number(tNs - t0);
  const powers = series.pointsW;
  if (powers !== undefined) {
    const p0 = powers[lo] as number;
    const p1 = powers[lo + 1] as number;
    const intoS = intoNs / 1e9;
    return e0 + p0 * intoS + ((p1 - p0) * intoS * intoNs) / (2 * spanNs);
  }
  return e0 + ((e1 - e0) * intoNs) / spanNs;
}

/**
 * Interpolating a run's ends is exact while the power is steady across the readings around each
 * end, and off most when the power steps right at the end (the run's work starting or stopping).
 * A step of dP at a fraction f into readings `gap` apart moves that end's energy by
 * f(1-f) x gap x dP, at most gap x dP / 4, and never by more than the energy between those two
 * readings (the counter only rises). With dP at most the run's mean power (a step between idle and
 * the run's work), each end is off by at most min(gap / (4 x duration), energy between its
 * readings / run's energy) of the run's energy, and the run by the sum over its two ends. Above
 * this share the run gets a "too-few-readings" warning: with evenly spaced fresh readings that is a
 * run holding fewer than 50 sensor updates, so the floor follows the rate and the run's length (at
 * 100 Hz a 100 ms run can be 5 % off, and came out 1.6 % low on the fixture; at 1 kHz a 1 s run is
 * within 0.05 %). The energy term keeps a stalled reading before a run (no change for a long gap,
 * so little energy in it) from counting as a long gap.
 */
export const MAX_END_INTERPOLATION_SHARE = 0.01;

/** Energy over [startNs, endNs] = E(endNs) − E(startNs); throws OutOfSpanError when either end is unsampled. */
export function intervalEnergy(series: EnergySeries, startNs: bigint, endNs: bigint): IntervalEnergy {
  if (endNs < startNs) {
    throw new OutOfSpanError(
      `${series.name}: the interval ends (${endNs} ns) before it starts (${startNs} ns)`,
    );
  }
  const energyJ = energyAtJ(series, endNs) - energyAtJ(series, startNs);
  const durationS = Number(endNs - startNs) / 1e9;
  const times = series.pointsNs;
  // Both ends lie within the points (energyAtJ checked): lo is the point at or before the start,
  // hi the point at or after the end; [times[lo], times[hi]] is the span the energy rests on.
  const lo = lastAtOrBefore(times, startNs);
  const endLo = lastAtOrBefore(times, endNs);
  const atEnd = times[endLo] === endNs;
  const hi = atEnd ? endLo : endLo + 1;
  // Points strictly inside: those at or before the end, less those at or before the start, less one at the end.
  const points = endNs > startNs ? endLo - lo - (atEnd ? 1 : 0) : 0;
  const warnings = spanWarnings(series, lo, hi);
  const periodNs = series.updatePeriodNs;
  if (periodNs !== undefined && Number(endNs - startNs) < periodNs) {
    warnings.push({
      code: "run-shorter-than-update-period",
      domain: series.domain,
      tNs: startNs,
      message: `${series.name}: the interval (${(durationS * 1e3).toFixed(3)} ms) is shorter than the sensor's update period (${(periodNs / 1e6).toFixed(3)} ms); its energy is mostly interpolation`,
    });
  }
  const share = endInterpolationShare(series, startNs, endNs, lo, hi, energyJ);
  if (share > MAX_END_INTERPOLATION_SHARE) {
    const startGapNs = times[lo] === startNs ? 0 : Number((times[lo + 1] as bigint) - (times[lo] as bigint));
    const endGapNs = atEnd ? 0 : Number((times[hi] as bigint) - (times[hi - 1] as bigint));
    const gapNs = (startGapNs + endGapNs) / 2;
    warnings.push({
      code: "too-few-readings",
      domain: series.domain,
      tNs: startNs,
      message:
        `${series.name}: too few readings: those around the interval's ends are ${(startGapNs / 1e6).toFixed(2)} and ` +
        `${(endGapNs / 1e6).toFixed(2)} ms apart, about ${Math.floor((durationS * 1e9) / gapNs)} sensor updates ` +
        `over its ${(durationS * 1e3).toFixed(1)} ms: interpolating its ends can be off by up to ` +
        `${(share * 100).toFixed(1)} % of its energy (above ${MAX_END_INTERPOLATION_SHARE * 100} %); make the ` +
        `run last at least ${(gapNs / (2 * MAX_END_INTERPOLATION_SHARE) / 1e6).toFixed(0)} ms ` +
        `(--min-run-ms ${(gapNs / (2 * MAX_END_INTERPOLATION_SHARE) / 1e6).toFixed(0)} runs a short command back to back until it does), ` +
        "or raise --sample-hz if the sensor updates faster",
    });
  }
  return {
    domain: series.domain,
    channel: series.name,
    method: series.method,
    startNs,
    endNs,
    durationS,
    energyJ,
    powerW: durationS > 0 ? energyJ / durationS : 0,
    points,
    warnings,
  };
}

/**
 * The bound of MAX_END_INTERPOLATION_SHARE's comment for [startNs, endNs], whose ends lie after
 * point `lo` and at or before point `hi`, and whose energy is `energyJ`.
 */
function endInterpolationShare(
  series: EnergySeries,
  startNs: bigint,
  endNs: bigint,
  lo: number,
  hi: number,
  energyJ: number,
): number {
  const durationNs = Number(endNs - startNs);
  if (durationNs <= 0) return 0;
  const times = series.pointsNs;
  const energies = series.pointsJ;
  const endShare = (before: number, tNs: bigint) => {
    if (times[before] === tNs) return 0; // on a reading: nothing interpolated
    const gapShare = Number((times[before + 1] as bigint) - (times[before] as bigint)) / (4 * durationNs);
    const betweenJ = (energies[before + 1] as number) - (energies[before] as number);
    return energyJ > 0 ? Math.min(gapShare, betweenJ / energyJ) : gapShare;
  };
  return endShare(lo, startNs) + endShare(times[hi] === endNs ? hi : hi - 1, endNs);
}

/**
 * The series' warnings that concern the span from point `lo` to point `hi`: a possible hidden wrap
 * in the longest gap between readings inside it, and each counter reset inside it.
 */
function spanWarnings(series: EnergySeries, lo: number, hi: number): AccountingWarning[] {
  const out: AccountingWarning[] = [];
  const gaps = series.pointsGapNs;
  const gapStarts = series.pointsGapStartNs;
  if (gaps !== undefined && gapStarts !== undefined) {
    let longest = lo + 1;
    for (let i = lo + 2; i <= hi; i++) if ((gaps[i] as number) > (gaps[longest] as number)) longest = i;
    if (longest <= hi) {
      const wrap = series.hiddenWrapWarning(gapStarts[longest] as bigint, gaps[longest] as number);
      if (wrap !== undefined) out.push(wrap);
    }
  }
  const times = series.pointsNs;
  const fromNs = times[lo] as bigint;
  const toNs = times[hi] as bigint;
  for (const reset of series.resets) {
    if (reset.tNs > fromNs && reset.tNs <= toNs) out.push(series.resetWarning(reset));
  }
  return out;
}

/** Index of the last time at or before `tNs` in ascending `times`; -1 when all are after it. */
function lastAtOrBefore(times: BigInt64Array, tNs: bigint): number {
  let lo = -1;
  let hi = times.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((times[mid] as bigint) <= tNs) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
