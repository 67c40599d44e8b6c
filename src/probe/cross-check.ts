// Where two interfaces expose the same energy domain (powercap and msr package-0, perf-power),
// sample both together and compare the power each reports.
import { setTimeout as sleep } from "node:timers/promises";
import { EnergySeries } from "../energy/series.js";
import type { SensorReport, SourceKind, SourceSpec } from "../native.js";
import { Sampler } from "../sampling/sampler.js";

/** One interface's view of a domain over the cross-check. */
export interface InterfaceReading {
  kind: SourceKind;
  channel: string;
  energyJ: number;
  durationS: number;
  powerW: number;
  readings: number;
  wraps: number;
}

export interface CrossCheck {
  domain: string;
  readings: InterfaceReading[];
  /** Largest minus smallest power among the interfaces. */
  spreadW: number;
  /** Within 5 % of the mean power or 0.5 W, whichever is larger. */
  agree: boolean;
}

/** A channel to measure: an energy counter of one source kind. */
export interface EnergyChannel {
  kind: SourceKind;
  channel: string;
  domain: string;
}

const AGREE_SHARE = 0.05;
const AGREE_FLOOR_W = 0.5;
/** RAPL updates about once a millisecond and wraps after minutes: 100 Hz is plenty for a mean power. */
const CROSS_CHECK_HZ = 100;

/** Energy counters of available sensors, grouped by domain, for domains seen by two kinds or more. */
export function sharedDomains(reports: readonly SensorReport[]): Map<string, EnergyChannel[]> {
  const byDomain = new Map<string, EnergyChannel[]>();
  for (const report of reports) {
    if (report.status !== "available") continue;
    for (const channel of report.channels) {
      if (channel.quantity !== "energy" || !channel.counter) continue;
      const list = byDomain.get(channel.domain) ?? [];
      list.push({ kind: report.kind, channel: channel.name, domain: channel.domain });
      byDomain.set(channel.domain, list);
    }
  }
  for (const [domain, list] of byDomain) {
    if (new Set(list.map((c) => c.kind)).size < 2) byDomain.delete(domain);
  }
  return byDomain;
}

/**
 * Samples the given energy counters together for `durationS` seconds and returns the mean power of
 * each, from its first to its last successful reading, wraps corrected.
 */
export async function measurePower(
  channels: readonly EnergyChannel[],
  durationS: number,
): Promise<InterfaceReading[]> {
  const selectByKind = new Map<SourceKind, string[]>();
  for (const c of channels) selectByKind.set(c.kind, [...(selectByKind.get(c.kind) ?? []), c.channel]);
  const sources: SourceSpec[] = [...selectByKind].map(([kind, select]) => ({ kind, select }));
  const sampler = new Sampler({ sampleHz: CROSS_CHECK_HZ, sources });
  // One EnergySeries per wanted channel: it keeps only successful reads and corrects wraps.
  const series = sampler.channels
    .map((info, index) => ({ info, index }))
    .filter(({ info }) => channels.some((c) => c.kind === info.source && c.channel === info.name))
    .map(({ info, index }) => ({ info, series: new EnergySeries(sampler.channels, index) }));
  const absorb = () => {
    const batch = sampler.drain();
    for (const s of series) s.series.append(batch);
  };

  sampler.start();
  try {
    // Drain once a second so a long check never fills the ring.
    for (let leftS = durationS; leftS > 0; leftS -= 1) {
      await sleep(Math.min(leftS, 1) * 1000);
      absorb();
    }
  } finally {
    sampler.stop();
  }
  absorb();

  return series.map(({ info, series: s }) => {
    const first = s.firstReadingNs;
    const last = s.lastReadingNs;
    const spanS = first !== undefined && last !== undefined ? Number(last - first) / 1e9 : 0;
    const energyJ = s.totalJ;
    return {
      kind: info.source,
      channel: info.name,
      energyJ,
      durationS: spanS,
      powerW: spanS > 0 ? energyJ / spanS : 0,
      readings: s.readings,
      wraps: s.wraps,
    };
  });
}

/** Whether interfaces agree on a domain's power: within 5 % of their mean or 0.5 W. */
export function agreement(readings: readonly InterfaceReading[]): { spreadW: number; agree: boolean } {
  const powers = readings.map((r) => r.powerW);
  const spreadW = Math.max(...powers) - Math.min(...powers);
  const meanW = powers.reduce((a, b) => a + b, 0) / powers.length;
  return { spreadW, agree: spreadW <= Math.max(AGREE_FLOOR_W, AGREE_SHARE * Math.abs(meanW)) };
}

/** Cross-checks every domain two interfaces share, all sampled together; empty when none is shared. */
export async function crossCheck(reports: readonly SensorReport[], durationS: number): Promise<CrossCheck[]> {
  const domains = sharedDomains(reports);
  if (domains.size === 0) return [];
  const readings = await measurePower([...domains.values()].flat(), durationS);
  return [...domains].map(([domain, channels]) => {
    const mine = readings.filter((r) => channels.some((c) => c.kind === r.kind && c.channel === r.channel));
    return { domain, readings: mine, ...agreement(mine) };
  });
}
