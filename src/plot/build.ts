// Which picture of which results: loads what `emp plot` asked for and assembles the Vega-Lite spec,
// reusing the report's grouping and history order so plot and report always agree.
import { median } from "simple-statistics";
import { UsageError } from "../errors.js";
import { buildReport, groupIdOf, REPORT_DEFAULTS, type Report } from "../report/analyze.js";
import { type EnergyKind, energyOf, type LoadedResults } from "../report/load.js";
import { type PowerTrace, readPowerTrace } from "./power.js";
import {
  distributionSpec,
  groupLabel,
  historySpec,
  type RunEnergy,
  traceSpec,
  type VegaLiteSpec,
} from "./specs.js";

export type PlotKind = "trace" | "history" | "distribution" | "all";

export const PLOT_KINDS: readonly PlotKind[] = ["trace", "history", "distribution", "all"];

/** More sessions than this in one trace plot are left out (with a warning): each is a chart. */
export const MAX_TRACE_SESSIONS = 8;

export interface PlotOptions {
  kind: PlotKind;
  energy: EnergyKind;
  domains?: readonly string[];
  /** Sessions whose power to trace; all (up to MAX_TRACE_SESSIONS) when absent. */
  sessions?: readonly string[];
}

export interface BuiltPlot {
  spec: VegaLiteSpec;
  /** The pictures it holds, in order. */
  parts: Exclude<PlotKind, "all">[];
  warnings: string[];
}

export function buildPlot(results: LoadedResults, options: PlotOptions): BuiltPlot {
  const warnings: string[] = [];
  const report = buildReport(results, {
    ...REPORT_DEFAULTS,
    energy: options.energy,
    domains: options.domains,
  });
  warnings.push(...report.warnings);
  const parts: BuiltPlot["parts"] = [];
  const specs: VegaLiteSpec[] = [];
  if (options.kind === "history" || options.kind === "all") {
    parts.push("history");
    specs.push(historySpec(report));
  }
  if (options.kind === "distribution" || options.kind === "all") {
    parts.push("distribution");
    specs.push(distributionSpec(report, runEnergies(results, report, options.energy)));
  }
  if (options.kind === "trace" || options.kind === "all") {
    const traces = powerTraces(results, report.domains, options.sessions, warnings);
    if (traces.length > 0) {
      parts.push("trace");
      specs.push(traceSpec(traces, baselinePowers(results, report.domains)));
    } else if (options.kind === "trace") {
      throw new UsageError("no power to trace: these results hold no samples with an energy counter", {
        suggestion:
          "emp measure keeps samples.arrow (and emp run samples/<session>.arrow) beside runs.arrow; an estimated measurement has no counter to trace",
      });
    } else {
      warnings.push("no samples with an energy counter: the power trace is left out");
    }
  }
  const spec = specs.length === 1 ? (specs[0] as VegaLiteSpec) : { vconcat: specs, spacing: 40 };
  return { spec, parts, warnings };
}

function runEnergies(results: LoadedResults, report: Report, energy: EnergyKind): RunEnergy[] {
  const labels = new Map(report.groups.map((g) => [g.id, groupLabel(g)]));
  const out: RunEnergy[] = [];
  for (const row of results.rows) {
    if (row.warmup) continue;
    const group = labels.get(groupIdOf(row, report.mode));
    if (group === undefined) continue;
    for (const domain of report.domains) {
      const energy_j = energyOf(row, domain, energy);
      if (energy_j !== null) out.push({ group, domain, energy_j });
    }
  }
  return out;
}

function powerTraces(
  results: LoadedResults,
  domains: readonly string[],
  sessions: readonly string[] | undefined,
  warnings: string[],
): PowerTrace[] {
  const files = results.dirs.flatMap((d) => [...d.samples.entries()]);
  const known = files.map(([session]) => session);
  for (const wanted of sessions ?? []) {
    if (!known.includes(wanted)) {
      throw new UsageError(`no samples of session '${wanted}'`, {
        suggestion: `pick one of: ${known.join(", ") || "(none: no samples in these results)"}`,
      });
    }
  }
  let chosen = sessions && sessions.length > 0 ? files.filter(([s]) => sessions.includes(s)) : files;
  if (chosen.length > MAX_TRACE_SESSIONS) {
    warnings.push(
      `${chosen.length} sessions have samples; the power trace shows the first ${MAX_TRACE_SESSIONS} (pick others with --session)`,
    );
    chosen = chosen.slice(0, MAX_TRACE_SESSIONS);
  }
  return chosen
    .map(([session, path]) => readPowerTrace(path, session, { domains }))
    .filter((trace) => trace.points.length > 0);
}

/** Each session's idle power per domain, W: the baseline share runs.arrow subtracted, over the run's time. */
function baselinePowers(
  results: LoadedResults,
  domains: readonly string[],
): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const session of new Set(results.rows.map((r) => r.session))) {
    const rows = results.rows.filter((r) => r.session === session && r.durationS > 0);
    const powers: Record<string, number> = {};
    for (const domain of domains) {
      const w = rows.flatMap((r) => {
        const j = r.baselineJ[domain];
        return j === null || j === undefined ? [] : [j / r.durationS];
      });
      if (w.length > 0) powers[domain] = median(w);
    }
    out.set(session, powers);
  }
  return out;
}
