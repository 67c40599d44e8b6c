// The JSON summary of `emp compare` (--json, summary.json, --export-json): a contract for scripts,
// snake_case keys with their units in their names, as emp measure's (src/measure/summary.ts).
import type { Correction } from "../analysis/correction.js";
import type { ChannelResolution } from "../measure/backend.js";
import type { RunOrder } from "../measure/schedule.js";
import type {
  DomainSummary,
  MetricSummary,
  RunSummary,
  SamplingSummary,
  WorkSummary,
} from "../measure/summary.js";
import type { WorkSpec } from "../measure/work.js";

export interface CommandSummary {
  /** As -n named it, or the command text. */
  name: string;
  /** The shell command (`sh -c`), its parameters filled in. */
  command: string;
  /** Iterations per run (--min-run-ms); the statistics are per iteration when above 1. */
  iterations: number;
  runs_counted: number;
  failed_runs: number;
  /** Per domain, the statistics of emp measure (net energy per run, or per iteration). */
  domains: Record<string, DomainSummary>;
  duration_s: {
    median: number;
    mean: number;
    stdev: number | null;
    ci95: [number, number];
    min: number;
    max: number;
  };
  counters_median: Record<string, number>;
  /** Net energy per unit of work; null without --work or --metric. */
  work: WorkSummary | null;
  metrics: Record<string, MetricSummary>;
  /** Measured runs flagged by the modified z-score (hyperfine's rule), as "run 3", per quantity. */
  outliers: Record<string, string[]>;
}

/** cheaper/costlier for energy (per run or per unit of work), faster/slower for time, lower/higher for a --metric. */
export type Verdict =
  | "cheaper"
  | "costlier"
  | "faster"
  | "slower"
  | "lower"
  | "higher"
  | "no significant difference";

export interface CommandComparison {
  /** The reference command's name. */
  baseline: string;
  candidate: string;
  /**
   * "energy" of a domain (net, per iteration where iterated), "work": its net energy per unit of
   * work (--work, --metric), "metric": a --metric itself, or the runs' "duration".
   */
  quantity: "energy" | "work" | "metric" | "duration";
  /** The energy domain, the metric's name, or "duration". */
  domain: string;
  /** median(candidate) / median(baseline); null where the baseline's median is not above 0. */
  ratio: number | null;
  /** 95 % two-sample bootstrap interval of the ratio; null with the ratio. */
  ratio_ci95: [number, number] | null;
  /** Mann-Whitney U, two-sided, uncorrected. */
  p_value: number;
  /** p_value after the correction over every comparison of the session. */
  p_adjusted: number;
  /** Of the candidate against the baseline: positive when the candidate tends to be larger. */
  cliffs_delta: number;
  verdict: Verdict;
}

export interface CompareSummary {
  out: string | null;
  estimated: boolean;
  label: string | null;
  /** How the cycles were ordered, and the seed of the shuffle. */
  order_policy: RunOrder;
  seed: number;
  /** Every run's command name in the order run (calibrations and warmups included). */
  order: string[];
  reference: string;
  alpha: number;
  correction: Correction;
  sampling: SamplingSummary;
  /** Per energy channel, how often its value was seen to change. */
  resolution: ChannelResolution[];
  baseline: { duration_s: number; power_w: Record<string, number | null> };
  min_run_ms: number | null;
  /** --work as given; null without. */
  work: WorkSpec | null;
  /** Failed runs are in the statistics (--include-failed); by default they are left out. */
  failures_included: boolean;
  commands: CommandSummary[];
  comparisons: CommandComparison[];
  /** Each run, named "<command> run 3" (warmups and calibrations too), with its command's index. */
  runs: (RunSummary & { command: string })[];
  interrupted: boolean;
  warnings: string[];
}
