// Energy from real sensors: the native sampler reads the chosen interfaces, every drained batch
// feeds one EnergySeries per channel, and a domain's energy is the sum over its channels.
import { intervalEnergy } from "../energy/interpolate.js";
import { EnergySeries } from "../energy/series.js";
import { OutOfSpanError } from "../errors.js";
import { LatenessHistogram } from "../sampling/lateness.js";
import { nowNs, Sampler, type TickBatch } from "../sampling/sampler.js";
import type {
  ChannelResolution,
  DomainEnergy,
  DomainInfo,
  EnergyBackend,
  IdlePower,
  RunSpan,
} from "./backend.js";
import type { SourceSelection } from "./select-sources.js";
import type { SamplingSummary } from "./summary.js";

export class SensorBackend implements EnergyBackend {
  readonly estimated = false;
  readonly domains: readonly DomainInfo[];
  readonly sampler: Sampler;
  private readonly series: EnergySeries[];
  private readonly lateness = new LatenessHistogram();
  private startedNs = 0n;
  private stoppedNs = 0n;

  constructor(
    selection: SourceSelection,
    private readonly sampleHz: number,
  ) {
    this.sampler = new Sampler({ sampleHz, sources: selection.specs });
    this.domains = selection.domains.map((d) => ({ domain: d.domain, source: d.source }));
    const chosen = new Set(selection.domains.flatMap((d) => d.channels.map((name) => `${d.source}/${name}`)));
    this.series = EnergySeries.forChannels(this.sampler.channels).filter((s) => {
      const channel = this.sampler.channels[s.channel];
      return channel !== undefined && chosen.has(`${channel.source}/${channel.name}`);
    });
  }

  get channels() {
    return this.sampler.channels;
  }

  start(): void {
    this.startedNs = this.sampler.start();
  }

  drain(): TickBatch | undefined {
    const batch = this.sampler.drain();
    if (batch.ticks === 0) return undefined;
    this.lateness.add(batch.raw.latenessNs);
    for (const s of this.series) s.append(batch);
    return batch;
  }

  stop(): void {
    this.stoppedNs = nowNs();
    this.sampler.stop();
  }

  idlePower(startNs: bigint, endNs: bigint): IdlePower {
    const out: IdlePower = { powerW: {}, unknown: {} };
    const durationS = Number(endNs - startNs) / 1e9;
    for (const { domain } of this.domains) {
      const sum = this.sum(domain, startNs, endNs);
      if (sum.outOfSpan !== undefined) out.unknown[domain] = sum.outOfSpan;
      else if (!(durationS > 0)) out.unknown[domain] = `the span sampled lasted ${durationS} s`;
      else out.powerW[domain] = sum.rawJ / durationS;
    }
    return out;
  }

  runEnergy(run: RunSpan): Record<string, DomainEnergy> {
    const energy: Record<string, DomainEnergy> = {};
    for (const { domain } of this.domains) {
      const { rawJ, warnings } = this.sum(domain, run.startNs, run.endNs);
      const updates = this.series
        .filter((s) => s.domain === domain)
        .map((s) => s.updatesWithin(run.startNs, run.endNs));
      energy[domain] =
        updates.length > 0 ? { rawJ, warnings, updates: Math.min(...updates) } : { rawJ, warnings };
    }
    return energy;
  }

  discardBefore(tNs: bigint): void {
    for (const s of this.series) s.discardBefore(tNs);
  }

  /**
   * The domain's energy over the span, summed over its channels, with the warnings that concern the
   * span; `outOfSpan` says why it is unknown (rawJ is then NaN) when an end could not be interpolated.
   */
  private sum(domain: string, startNs: bigint, endNs: bigint): DomainEnergy & { outOfSpan?: string } {
    let rawJ = 0;
    const warnings: string[] = [];
    let outOfSpan: string | undefined;
    for (const s of this.series) {
      if (s.domain !== domain) continue;
      try {
        const interval = intervalEnergy(s, startNs, endNs);
        rawJ += interval.energyJ;
        for (const w of interval.warnings) warnings.push(w.message);
      } catch (error) {
        if (!(error instanceof OutOfSpanError)) throw error;
        warnings.push(`${domain}: ${error.message}`);
        outOfSpan ??= error.message;
        rawJ = Number.NaN;
      }
    }
    return outOfSpan === undefined ? { rawJ, warnings } : { rawJ, warnings, outOfSpan };
  }

  updatePeriodMs(domain: string): number | null {
    const periods = this.series
      .filter((s) => s.domain === domain && s.updatePeriodNs !== undefined)
      .map((s) => (s.updatePeriodNs ?? 0) / 1e6);
    return periods.length > 0 ? Math.max(...periods) : null;
  }

  resolution(): ChannelResolution[] {
    return this.series.map((s) => {
      const periodNs = s.updatePeriodNs;
      return {
        channel: s.name,
        domain: s.domain,
        source: this.sampler.channels[s.channel]?.source ?? "",
        update_period_ms: periodNs === undefined ? null : periodNs / 1e6,
        fresh_readings: s.freshReadings,
      };
    });
  }

  sampling(): SamplingSummary {
    const stats = this.sampler.stats();
    const elapsedS = Number(this.stoppedNs - this.startedNs) / 1e9;
    return {
      requested_hz: this.sampleHz,
      achieved_hz: elapsedS > 0 ? Math.round((stats.ticks / elapsedS) * 10) / 10 : 0,
      samples: stats.ticks,
      dropped: stats.dropped,
      missed: stats.missed,
      read_errors: stats.readErrors.reduce((a, b) => a + b, 0),
      lateness_us: {
        p50: this.lateness.quantileUs(0.5),
        p99: this.lateness.quantileUs(0.99),
        max: this.lateness.maxUs,
      },
      slow_lag_max_us: stats.slowLagMaxNs > 0 ? Math.round(stats.slowLagMaxNs / 100) / 10 : null,
    };
  }

  warnings(): string[] {
    const out: string[] = [];
    const stats = this.sampler.stats();
    if (stats.dropped > 0) {
      out.push(
        `${stats.dropped} samples were dropped because the ring was full; energy across them is interpolated`,
      );
    }
    const errors = stats.readErrors.reduce((a, b) => a + b, 0);
    if (errors > 0) out.push(`${errors} sensor reads failed; those ticks kept the previous value`);
    for (const s of this.series) for (const w of s.warnings()) out.push(w.message);
    return out;
  }
}
