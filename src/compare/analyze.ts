// What emp compare concludes: each command against the reference, per energy domain and for the
// duration (a user wants to see whether B is cheaper because it is faster): the ratio of medians
// with a bootstrap interval, the Mann-Whitney test corrected over every comparison, Cliff's delta and
// a verdict; and the warnings that say when the runs cannot carry that conclusion.
import { attainabilityWarning } from "../analysis/attainable.js";
import { cliffsDelta } from "../analysis/cliffs-delta.js";
import { adjustPValues, type Correction } from "../analysis/correction.js";
import { mannWhitneyU } from "../analysis/mann-whitney.js";
import { CV_WARNING, firstRunIsOutlier, OUTLIER_THRESHOLD, outlierIndices } from "../analysis/outliers.js";
import { ratioOfMedians } from "../analysis/ratio.js";
import { durationSpreadWarning } from "../measure/work.js";
import type { CommandComparison, CommandSummary, Verdict } from "./summary.js";

/** One command's measured runs as the analysis reads them, in the order run. */
export interface CommandSamples {
  name: string;
  /** Net energy per run (per iteration where iterated), J, per domain; runs without a value left out. */
  energyJ: Record<string, number[]>;
  /** Duration per run (per iteration), s. */
  durationS: number[];
  /** Net energy per unit of work (--work, --metric), J/unit, per domain. */
  workJ: Record<string, number[]>;
  /** Each --metric's values. */
  metrics: Record<string, number[]>;
}

export interface AnalysisOptions {
  alpha: number;
  correction: Correction;
  seed: number;
}

/** The verdict of a significant difference per quantity: [when the candidate is smaller, larger]. */
const VERDICTS: Record<CommandComparison["quantity"], readonly [Verdict, Verdict]> = {
  energy: ["cheaper", "costlier"],
  work: ["cheaper", "costlier"],
  metric: ["lower", "higher"],
  duration: ["faster", "slower"],
};

export function compareCommands(
  samples: readonly CommandSamples[],
  reference: number,
  domains: readonly string[],
  options: AnalysisOptions,
): CommandComparison[] {
  const base = samples[reference];
  if (base === undefined) return [];
  const raw: Omit<CommandComparison, "p_adjusted" | "verdict">[] = [];
  const quantities = [
    ...domains.map((domain) => ({
      quantity: "energy" as const,
      domain,
      of: (s: CommandSamples) => s.energyJ[domain] ?? [],
    })),
    ...domains
      .filter((domain) => (base.workJ[domain] ?? []).length > 0)
      .map((domain) => ({
        quantity: "work" as const,
        domain,
        of: (s: CommandSamples) => s.workJ[domain] ?? [],
      })),
    ...Object.keys(base.metrics).map((name) => ({
      quantity: "metric" as const,
      domain: name,
      of: (s: CommandSamples) => s.metrics[name] ?? [],
    })),
    { quantity: "duration" as const, domain: "duration", of: (s: CommandSamples) => s.durationS },
  ];
  for (const q of quantities) {
    const a = q.of(base);
    for (const candidate of samples) {
      if (candidate === base) continue;
      const b = q.of(candidate);
      if (a.length === 0 || b.length === 0) continue;
      const ratio = ratioOfMedians(b, a, { seed: options.seed });
      raw.push({
        baseline: base.name,
        candidate: candidate.name,
        quantity: q.quantity,
        domain: q.domain,
        ratio: ratio?.ratio ?? null,
        ratio_ci95: ratio ? [ratio.ci[0], ratio.ci[1]] : null,
        p_value: mannWhitneyU(b, a).pValue,
        cliffs_delta: cliffsDelta(b, a),
      });
    }
  }
  // One family: every comparison the session shows: energy, per unit of work, metrics, duration.
  const adjusted = adjustPValues(
    raw.map((c) => c.p_value),
    options.correction,
  );
  return raw.map((c, i) => {
    const p_adjusted = adjusted[i] as number;
    const significant = p_adjusted < options.alpha;
    // Direction from Cliff's delta: the test asks whether one tends to be larger, not the medians.
    const larger = c.cliffs_delta > 0;
    const verdict =
      !significant || c.cliffs_delta === 0
        ? "no significant difference"
        : VERDICTS[c.quantity][larger ? 1 : 0];
    return { ...c, p_adjusted, verdict };
  });
}

/** Runs of one command flagged as outliers, per quantity ("package-0", "duration"), as "run N". */
export function commandOutliers(s: CommandSamples): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const flag = (key: string, values: readonly number[]) => {
    if (values.length === 0) return; // every run failed: nothing to flag
    const found = outlierIndices(values, OUTLIER_THRESHOLD);
    if (found.length > 0) out[key] = found.map((i) => `run ${i + 1}`);
  };
  for (const [domain, values] of Object.entries(s.energyJ)) flag(domain, values);
  flag("duration", s.durationS);
  return out;
}

/** What a reader of the comparison must know: outliers, a cold first run, spread, durations apart, too few runs. */
export function comparisonWarnings(
  samples: readonly CommandSamples[],
  commands: readonly CommandSummary[],
  comparisons: readonly CommandComparison[],
  options: AnalysisOptions & { reference: number },
): string[] {
  const warnings: string[] = [];
  for (const [i, s] of samples.entries()) {
    const outliers = commands[i]?.outliers ?? {};
    for (const [quantity, runs] of Object.entries(outliers)) {
      warnings.push(
        `${s.name}: ${runs.join(", ")} ${runs.length === 1 ? "is an outlier" : "are outliers"} in ${quantity === "duration" ? "duration" : `${quantity} energy`} ` +
          `(more than ${OUTLIER_THRESHOLD} robust standard deviations from the median, hyperfine's rule): something else ran then? measure on a quieter machine, or add --cooldown`,
      );
    }
    if (s.durationS.length > 2 && firstRunIsOutlier(s.durationS)) {
      warnings.push(
        `${s.name}: its first measured run took much longer than the rest (cold caches?): add --warmup runs, or --prepare a command that makes every run start alike`,
      );
    }
    for (const [domain, d] of Object.entries(commands[i]?.domains ?? {})) {
      // The net energy's cv from the command's statistics (stdev / |mean|, as summarize's cv).
      const cv =
        d.net_stdev_j === null || d.net_mean_j === null || d.net_mean_j === 0
          ? null
          : d.net_stdev_j / Math.abs(d.net_mean_j);
      if (cv !== null && cv >= CV_WARNING) {
        warnings.push(
          `${s.name}: its ${domain} net energy varies by ${(cv * 100).toFixed(0)} % of the mean between runs (above ${CV_WARNING * 100} %, pyperf's rule): ` +
            "the result is unstable; add --repeat runs, --min-run-ms for a short command, or measure on a quieter machine",
        );
      }
    }
  }
  const spread = durationSpreadWarning(
    commands.filter((c) => c.runs_counted > 0).map((c) => ({ name: c.name, medianS: c.duration_s.median })),
  );
  if (spread !== null) warnings.push(spread);
  const reference = samples[options.reference];
  const sizes = samples
    .filter((s) => s !== reference && s.durationS.length > 0)
    .map((s) => [reference?.durationS.length ?? 0, s.durationS.length] as const)
    .filter(([n]) => n > 0);
  if (sizes.length > 0 && comparisons.length > 0) {
    const warning = attainabilityWarning({
      alpha: options.alpha,
      comparisons: comparisons.length,
      sizes,
      correction: options.correction,
    });
    if (warning !== null) warnings.push(warning);
  }
  return warnings;
}
