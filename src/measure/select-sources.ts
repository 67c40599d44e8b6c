// Which sensors a measurement reads: every real energy sensor that can be read, one interface per
// domain, preferring the one with the finest resolution and the lowest read cost.
import { UsageError } from "../errors.js";
import type { SensorReport, SourceKind, SourceSpec } from "../native.js";

/** Energy interfaces in order of preference for a domain several of them expose. */
export const ENERGY_PREFERENCE: readonly SourceKind[] = ["msr", "perf-power", "powercap", "nvml"];

/** Why each interface ranks where it does, for the summary and the manifest. */
const RANK_REASON: Record<string, string> = {
  msr: "raw energy-status units (finest resolution) read with one pread per register (cheapest read)",
  "perf-power": "raw energy-status units through one read() per counter, 64-bit so it never wraps",
  powercap: "sysfs text rounded to microjoules, parsed on every read (most expensive read)",
  nvml: "the GPU's own energy counter (or its power, integrated)",
};

export interface DomainChoice {
  domain: string;
  source: SourceKind;
  /** Channel names of `source` that make up the domain (AMD reports one core counter per core). */
  channels: string[];
  /** Other interfaces that expose the same domain and were not chosen. */
  alternatives: SourceKind[];
  why: string;
}

export interface SourceSelection {
  domains: DomainChoice[];
  specs: SourceSpec[];
}

/**
 * Picks one interface per energy domain from the probe's reports. `requested` limits the choice to
 * those kinds; a requested kind that cannot be read is the user's to fix (exit 2).
 */
export function selectEnergySources(
  reports: readonly SensorReport[],
  requested?: readonly string[],
): SourceSelection {
  const energyKinds = new Set<string>(ENERGY_PREFERENCE);
  if (requested !== undefined) {
    for (const kind of requested) {
      if (!energyKinds.has(kind)) {
        throw new UsageError(`unknown energy source '${kind}'`, {
          suggestion: `use a comma-separated list of ${ENERGY_PREFERENCE.join(", ")}`,
        });
      }
      const report = reports.find((r) => r.kind === kind);
      if (report?.status !== "available") {
        throw new UsageError(
          `energy source '${kind}' cannot be read here: ${report?.reason ?? "not probed"}`,
          {
            suggestion: report?.fix || "run `emp probe` to see which sources this machine has",
          },
        );
      }
    }
  }
  const allowed = (kind: SourceKind) => requested === undefined || requested.includes(kind);

  const byDomain = new Map<string, Map<SourceKind, string[]>>();
  for (const kind of ENERGY_PREFERENCE) {
    const report = reports.find((r) => r.kind === kind);
    if (report?.status !== "available" || !allowed(kind)) continue;
    for (const channel of report.channels) {
      const usable =
        (channel.quantity === "energy" && channel.counter) ||
        (kind === "nvml" && channel.quantity === "power");
      if (!usable) continue;
      const kinds = byDomain.get(channel.domain) ?? new Map<SourceKind, string[]>();
      const names = kinds.get(kind) ?? [];
      names.push(channel.name);
      kinds.set(kind, names);
      byDomain.set(channel.domain, kinds);
    }
  }

  const domains: DomainChoice[] = [];
  for (const [domain, kinds] of byDomain) {
    const ranked = ENERGY_PREFERENCE.filter((k) => kinds.has(k));
    const source = ranked[0];
    if (source === undefined) continue;
    let channels = kinds.get(source) ?? [];
    // A GPU with an energy counter is measured by it; its power gauge only where the counter is missing.
    if (source === "nvml") {
      const energy = channels.filter((n) => n.endsWith("-energy"));
      channels = energy.length > 0 ? energy : channels.filter((n) => n.endsWith("-power"));
    }
    domains.push({ domain, source, channels, alternatives: ranked.slice(1), why: RANK_REASON[source] ?? "" });
  }

  const specs: SourceSpec[] = [];
  for (const kind of ENERGY_PREFERENCE) {
    const select = domains.filter((d) => d.source === kind).flatMap((d) => d.channels);
    if (select.length > 0) specs.push({ kind, select });
  }
  return { domains, specs };
}
