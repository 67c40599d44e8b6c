// The JSON summary of `emp measure` (SPEC §6): a contract that scripts and tests rely on, so its
// keys are snake_case and its units are in their names.
import type { ChannelResolution } from "./backend.js";

export interface LatenessUs {
  p50: number;
  p99: number;
  max: number;
}

export interface SamplingSummary {
  requested_hz: number;
  achieved_hz: number;
  samples: number;
  dropped: number;
  /** Deadlines the sampler skipped because it ran more than a period late. */
  missed: number;
  /** Sensor reads that failed (the tick kept the previous value); above 0 the CLI exits 1. */
  read_errors: number;
  lateness_us: LatenessUs;
  /**
   * Sources that block (NVML, thermal zones) are read on a thread of their own and each reading is
   * stamped with the tick that took it: the most a stamp came after its read began. Null when no
   * source was read that way.
   */
  slow_lag_max_us: number | null;
}

export interface DomainSummary {
  /** The interface read ("msr", "powercap", ...), or "estimate". */
  source: string;
  /** Statistics of the raw energy of the measured runs (warmups excluded). */
  mean_j: number;
  median_j: number;
  stdev_j: number | null;
  ci95_j: [number, number];
  min_j: number;
  max_j: number;
  cv: number | null;
  /** Idle power, W; null when the baseline could not be measured (a stalled sensor). */
  baseline_w: number | null;
  /**
   * Statistics of the net energy (raw − baseline × duration), not clamped at zero; null where
   * baseline_w is.
   */
  net_mean_j: number | null;
  net_median_j: number | null;
  net_ci95_j: [number, number] | null;
  net_stdev_j: number | null;
  net_min_j: number | null;
  net_max_j: number | null;
  /** Median interval between fresh readings, ms (RAPL: about 1); null for estimates. */
  update_period_ms: number | null;
}

/** Statistics of the runs' duration, s (per iteration where runs were iterated). */
export interface DurationSummary {
  mean_s: number;
  median_s: number;
  stdev_s: number | null;
  ci95_s: [number, number];
  min_s: number;
  max_s: number;
}

/** Net energy per unit of work (--work, or the first --metric), per domain. */
export interface WorkSummary {
  /** "J/MB", "J/op". */
  unit: string;
  /** Where the work came from: "--work 100 MB" or "--metric throughput". */
  from: string;
  /** --work's amount per run (per iteration); null where a metric gives it. */
  work_per_run: number | null;
  domains: Record<string, { net_median: number; net_mean: number; net_ci95: [number, number]; runs: number }>;
}

/** A number each run printed (--metric), over the runs where it was found. */
export interface MetricSummary {
  unit: string;
  runs: number;
  median: number | null;
  mean: number | null;
  ci95: [number, number] | null;
}

export interface RunSummary {
  /** The run's number among all of the session's, warmups included, from 0 (samples.arrow's `run`). */
  index: number;
  /** As a person counts: "calibration 1", "warmup 1", "run 3" (each kind apart, from 1); the session's warnings about it start so. */
  name: string;
  warmup: boolean;
  /** Times the command ran back to back in this run (--min-run-ms); energy_j and duration_s are of all of them. */
  iterations: number;
  exit_code: number | null;
  signal: string | null;
  duration_s: number;
  energy_j: Record<string, number>;
  /** Null for a domain whose baseline is unknown. */
  net_energy_j: Record<string, number | null>;
  counters: Record<string, number>;
  /** Per domain, the times its sensor's value changed within the run: few means its ends set the energy. */
  sensor_updates: Record<string, number>;
  /** What --metric captured from its output; null where not found. */
  metrics: Record<string, number | null>;
  /** Descendants still running when the command exited: ended by emp, or waited for with --wait-descendants. */
  descendants: number;
  /** About this run: a counter reset, a possible hidden wrap, too few readings, its exit. */
  warnings: string[];
}

export interface MeasureSummary {
  out: string | null;
  estimated: boolean;
  command: string[];
  label: string | null;
  sampling: SamplingSummary;
  /** Per energy channel, how often its value was seen to change (RAPL about 1 ms, NVML 20-100 ms). */
  resolution: ChannelResolution[];
  /** power_w: W per domain; null where the baseline could not be measured. */
  baseline: { duration_s: number; power_w: Record<string, number | null> };
  /**
   * Statistics of the measured runs whose command succeeded (or of every one, with
   * failures_included); per iteration where `iterations` is above 1.
   */
  domains: Record<string, DomainSummary>;
  duration: DurationSummary;
  /** Iterations per measured run (--min-run-ms calibrates it; 1 otherwise): domains and duration are per iteration. */
  iterations: number;
  /** Net energy per unit of work; null without --work or --metric. */
  work: WorkSummary | null;
  /** Each --metric over the runs. */
  metrics: Record<string, MetricSummary>;
  /** The --min-run-ms the iterations were calibrated for; null without. */
  min_run_ms: number | null;
  /** Measured runs in the statistics above. */
  runs_counted: number;
  /** Median per counted run of each perf counter collected (task-clock in ns, the others counts). */
  counters_median: Record<string, number>;
  /** Measured runs (warmups not counted) whose command failed: exit != 0, a signal, a timeout. */
  failed_runs: number;
  /** Failed runs are in the statistics (--include-failed); by default they are left out. */
  failures_included: boolean;
  runs: RunSummary[];
  /** Set when the session stopped early (Ctrl-C, a sensor failure); the runs done are kept. */
  interrupted: boolean;
  warnings: string[];
}
