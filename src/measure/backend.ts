// Where a measurement's joules come from: the sensors through the native sampler, or, where no
// real sensor can be read, the labelled estimate. The session drives either the same way.
import type { SamplerChannelInfo } from "../native.js";
import type { ChildResult } from "../sampling/child.js";
import type { TickBatch } from "../sampling/sampler.js";
import type { SamplingSummary } from "./summary.js";

export interface DomainInfo {
  domain: string;
  source: string;
}

/** What the backend needs of a finished run: its span on the sampler's clock and its CPU time. */
export type RunSpan = Pick<ChildResult, "startNs" | "endNs" | "durationNs" | "counters" | "treeCpuNs">;

/** A run's energy in one domain as the backend saw it. */
export interface DomainEnergy {
  rawJ: number;
  /** Times the sensor's value changed within the run (the fewest of the domain's channels); absent for estimates. */
  updates?: number;
  /** About this run only: a reset, a possible hidden wrap or too few readings within its span. */
  warnings: string[];
}

/** Idle power over a span, per domain: measured, or why it could not be. */
export interface IdlePower {
  /** W, for each domain whose energy over the span is known. */
  powerW: Record<string, number>;
  /** For each domain whose is not, the reason (no fresh reading after the span's end: a stalled sensor). */
  unknown: Record<string, string>;
}

/** How often one energy channel's value was seen to change: what decides how short a run can be measured. */
export interface ChannelResolution {
  channel: string;
  domain: string;
  source: string;
  /** Median interval between changes of its value, ms; null before two changes. */
  update_period_ms: number | null;
  /** Readings whose value changed, over the whole session. */
  fresh_readings: number;
}

export interface EnergyBackend {
  readonly estimated: boolean;
  readonly domains: readonly DomainInfo[];
  /** The sampler's channels, as samples.arrow stores them (none for an estimate). */
  readonly channels: readonly SamplerChannelInfo[];
  start(): void;
  /** Moves new samples in; the session calls it often enough that the ring never fills. */
  drain(): TickBatch | undefined;
  /** Stops sampling; the ticks still in the ring wait for one more drain(). */
  stop(): void;
  /** Idle power per domain over [startNs, endNs]. */
  idlePower(startNs: bigint, endNs: bigint): IdlePower;
  /** Called just before each run starts. */
  runStarting?(): void;
  /** Lets go of what no span from `tNs` on needs (memory of a long session). */
  discardBefore?(tNs: bigint): void;
  /** Energy per domain of a finished run. */
  runEnergy(run: RunSpan): Record<string, DomainEnergy>;
  /** Median interval between fresh readings per domain, ms, where the backend knows it. */
  updatePeriodMs(domain: string): number | null;
  /** Per channel read, its observed update period (none for an estimate). */
  resolution(): ChannelResolution[];
  sampling(): SamplingSummary;
  /** Warnings about the whole session (possible hidden wraps, dropped ticks). */
  warnings(): string[];
}

/** Why a domain's idle power over the `span` phase is unknown, one warning each. */
export function unknownIdleWarnings(span: "baseline" | "post-baseline", idle: IdlePower): string[] {
  const consequence =
    span === "baseline"
      ? "the runs keep their raw energy but have no net energy"
      : "its drift from the baseline cannot be checked";
  return Object.entries(idle.unknown).map(
    ([domain, reason]) => `${domain}: the idle ${span}'s power is unknown (${reason}); ${consequence}`,
  );
}
