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
  // Points strictly inside: those at or before the end, less those at or before the start, less one at the end.
  const atEnd = times[lastAtOrBefore(times, endNs)] === endNs ? 1 : 0;
  const points = endNs > startNs ? lastAtOrBefore(times, endNs) - lastAtOrBefore(times, startNs) - atEnd : 0;
  const warnings = series.warnings();
  const periodNs = series.updatePeriodNs;
  if (periodNs !== undefined && Number(endNs - startNs) < periodNs) {
    warnings.push({
      code: "run-shorter-than-update-period",
      domain: series.domain,
      tNs: startNs,
      message: `${series.name}: the interval (${(durationS * 1e3).toFixed(3)} ms) is shorter than the sensor's update period (${(periodNs / 1e6).toFixed(3)} ms); its energy is mostly interpolation`,
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
