// The idle machine's power per domain, and what a run spent above it: net = raw − baseline × duration.
import { intervalEnergy } from "./interpolate.js";
import type { AccountingWarning, EnergySeries } from "./series.js";

/** Share by which pre and post baselines may differ before a warning (SPEC §5). */
export const DEFAULT_DRIFT_THRESHOLD = 0.1;

/** One domain's idle power, measured over [startNs, endNs]. */
export interface Baseline {
  domain: string;
  startNs: bigint;
  endNs: bigint;
  durationS: number;
  energyJ: number;
  powerW: number;
}

/** A run's energy in one domain: what the sensor saw, the idle share of it, and the rest. */
export interface NetEnergy {
  domain: string;
  durationS: number;
  rawJ: number;
  baselineW: number;
  /** baselineW × durationS. */
  baselineJ: number;
  /** rawJ − baselineJ; negative when the run drew less than the idle machine (noise, or drift). */
  netJ: number;
}

/**
 * A run's energy in one domain whose idle baseline was not measured (its sensor gave no fresh
 * reading after the baseline's end): what the sensor saw, and no baseline or net energy at all,
 * rather than a net computed against a guess.
 */
export interface RawOnlyEnergy {
  domain: string;
  durationS: number;
  rawJ: number;
  baselineW: null;
  baselineJ: null;
  netJ: null;
}

/** A run's energy in one domain: net above a known baseline, or raw only. */
export type RunDomainEnergy = NetEnergy | RawOnlyEnergy;

export interface BaselineDrift {
  domain: string;
  preW: number;
  postW: number;
  /** |post − pre| / |pre|: the share of the pre baseline by which the post one differs. */
  share: number;
  thresholdShare: number;
  warning?: AccountingWarning;
}

/** Baseline power of the series' domain from an idle interval: its energy over its duration. */
export function measureBaseline(series: EnergySeries, startNs: bigint, endNs: bigint): Baseline {
  const interval = intervalEnergy(series, startNs, endNs);
  return {
    domain: series.domain,
    startNs,
    endNs,
    durationS: interval.durationS,
    energyJ: interval.energyJ,
    powerW: interval.powerW,
  };
}

/** Net energy of a run of `durationS` that spent `rawJ`; not clamped at zero. */
export function netEnergy(domain: string, rawJ: number, durationS: number, baselineW: number): NetEnergy {
  const baselineJ = baselineW * durationS;
  return { domain, durationS, rawJ, baselineW, baselineJ, netJ: rawJ - baselineJ };
}

/**
 * Net energy above `baselineW` where the baseline is known (a finite number); raw only where it is
 * not, or where the raw energy itself is unknown (NaN: the run's own end could not be interpolated).
 */
export function runDomainEnergy(
  domain: string,
  rawJ: number,
  durationS: number,
  baselineW: number | undefined,
): RunDomainEnergy {
  if (baselineW === undefined || !Number.isFinite(baselineW) || !Number.isFinite(rawJ)) {
    return { domain, durationS, rawJ, baselineW: null, baselineJ: null, netJ: null };
  }
  return netEnergy(domain, rawJ, durationS, baselineW);
}

/** A run's raw energy over [startNs, endNs] and its net energy above `baseline` (none: net = raw). */
export function runEnergy(
  series: EnergySeries,
  startNs: bigint,
  endNs: bigint,
  baseline?: Baseline,
): NetEnergy & { warnings: AccountingWarning[] } {
  const interval = intervalEnergy(series, startNs, endNs);
  return {
    ...netEnergy(series.domain, interval.energyJ, interval.durationS, baseline?.powerW ?? 0),
    warnings: interval.warnings,
  };
}

/**
 * How far the post baseline moved from the pre one, as a share of the pre one, with a warning
 * above `thresholdShare` (default 10 %): the idle machine changed (temperature, a background job),
 * so the net energies of the runs between them rest on a baseline that was not constant.
 */
export function baselineDrift(
  pre: Baseline,
  post: Baseline,
  thresholdShare = DEFAULT_DRIFT_THRESHOLD,
): BaselineDrift {
  const diffW = Math.abs(post.powerW - pre.powerW);
  const share = pre.powerW !== 0 ? diffW / Math.abs(pre.powerW) : diffW === 0 ? 0 : Number.POSITIVE_INFINITY;
  const drift: BaselineDrift = {
    domain: pre.domain,
    preW: pre.powerW,
    postW: post.powerW,
    share,
    thresholdShare,
  };
  if (share > thresholdShare) {
    drift.warning = {
      code: "baseline-drift",
      domain: pre.domain,
      tNs: post.startNs,
      message:
        `${pre.domain}: the idle baseline moved from ${pre.powerW.toFixed(3)} W to ${post.powerW.toFixed(3)} W ` +
        `(${(share * 100).toFixed(1)} %, above ${(thresholdShare * 100).toFixed(0)} %); net energies between them are less certain`,
    };
  }
  return drift;
}
