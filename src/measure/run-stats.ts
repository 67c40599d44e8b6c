// Statistics of one command's measured runs, per domain and for the duration: what emp measure's
// summary and each command of emp compare report. Where runs were iterated (--min-run-ms) every
// number is per iteration: the energy and time of the command once, which is what a user compares.
import { median } from "simple-statistics";
import { summarize } from "../stats/summary.js";
import type { EnergyBackend } from "./backend.js";
import type { MeasuredRun } from "./meter.js";
import { runFailed } from "./run-failure.js";
import type { DomainSummary, DurationSummary, MetricSummary, WorkSummary } from "./summary.js";
import { type MetricSpec, netJPerUnit, type WorkSpec, workUnit } from "./work.js";

/** A run as the statistics read it: its energy, duration, iterations, and what --metric captured. */
export type StatsRun = MeasuredRun & { metrics?: Record<string, number | null> };

/** What makes energy per unit of work: --work, or the first --metric. */
export interface WorkOptions {
  work?: WorkSpec;
  metrics?: readonly MetricSpec[];
}

export interface CommandStats {
  domains: Record<string, DomainSummary>;
  duration: DurationSummary;
  /** Measured runs in the statistics. */
  runs_counted: number;
  failed_runs: number;
  counters_median: Record<string, number>;
  /** Iterations per run: the statistics are per iteration when above 1. */
  iterations: number;
  /** Net energy per unit of work per domain; null without --work or --metric. */
  work: WorkSummary | null;
  /** Each --metric's statistics over the runs where it was found. */
  metrics: Record<string, MetricSummary>;
  warnings: string[];
}

/** A run lasting fewer than this many sensor updates is measured with a bias at its ends. */
export const MIN_UPDATES_PER_RUN = 5;

/** `runs` are one command's, warmups excluded; failed ones are left out unless `includeFailed`. */
export function commandStats(
  backend: EnergyBackend,
  runs: readonly StatsRun[],
  baselineW: Record<string, number>,
  includeFailed: boolean,
  workOptions: WorkOptions = {},
): CommandStats {
  const failed = runs.filter(runFailed);
  const measured = includeFailed ? runs : runs.filter((r) => !runFailed(r));
  const iterations = Math.max(1, ...measured.map((r) => r.iterations));
  const per = (value: number, run: MeasuredRun) => value / run.iterations;
  const warnings: string[] = [];
  const domains: Record<string, DomainSummary> = {};
  for (const { domain, source } of backend.domains) {
    const raw = finite(measured.map((r) => per(r.energy[domain]?.rawJ ?? Number.NaN, r)));
    const net = finite(measured.map((r) => per(r.energy[domain]?.netJ ?? Number.NaN, r)));
    if (raw.length === 0) continue;
    const r = summarize(raw);
    // No net energy where the baseline is unknown: the raw statistics stand on their own.
    const n = net.length > 0 ? summarize(net) : undefined;
    const periodMs = backend.updatePeriodMs(domain);
    domains[domain] = {
      source,
      mean_j: r.mean,
      median_j: r.median,
      stdev_j: r.stdev,
      ci95_j: [r.ci[0], r.ci[1]],
      min_j: r.min,
      max_j: r.max,
      cv: r.cv,
      baseline_w: baselineW[domain] ?? null,
      net_mean_j: n?.mean ?? null,
      net_median_j: n?.median ?? null,
      net_ci95_j: n ? [n.ci[0], n.ci[1]] : null,
      net_stdev_j: n?.stdev ?? null,
      net_min_j: n?.min ?? null,
      net_max_j: n?.max ?? null,
      update_period_ms: periodMs,
    };
    const shortest = Math.min(...measured.map((m) => m.durationS));
    if (periodMs !== null && shortest * 1000 < MIN_UPDATES_PER_RUN * periodMs) {
      warnings.push(
        `${domain}: the shortest run (${(shortest * 1000).toFixed(2)} ms) lasts fewer than ${MIN_UPDATES_PER_RUN} sensor updates (${periodMs.toFixed(2)} ms each); ` +
          `pass --min-run-ms ${Math.ceil(periodMs * MIN_UPDATES_PER_RUN * 10)} to run it back to back until each run lasts that long`,
      );
    }
  }
  const durations = measured.map((m) => m.durationS / m.iterations);
  const d = durations.length > 0 ? summarize(durations) : undefined;
  return {
    domains,
    duration: {
      mean_s: d?.mean ?? 0,
      median_s: d?.median ?? 0,
      stdev_s: d?.stdev ?? null,
      ci95_s: d ? [d.ci[0], d.ci[1]] : [0, 0],
      min_s: d?.min ?? 0,
      max_s: d?.max ?? 0,
    },
    runs_counted: measured.length,
    failed_runs: failed.length,
    counters_median: countersMedian(measured),
    iterations,
    work: workStats(backend, measured, workOptions),
    metrics: metricStats(measured, workOptions.metrics ?? []),
    warnings,
  };
}

/** Net energy per unit of work, per domain, over the runs whose work is known. */
function workStats(
  backend: EnergyBackend,
  runs: readonly StatsRun[],
  options: WorkOptions,
): WorkSummary | null {
  const metric = options.metrics?.[0];
  const unit = workUnit(options.work, metric);
  if (unit === undefined) return null;
  const domains: WorkSummary["domains"] = {};
  for (const { domain } of backend.domains) {
    const values = finite(
      runs.map((r) => netJPerUnit(r.energy[domain]?.netJ, r, options.work, options.metrics) ?? Number.NaN),
    );
    if (values.length === 0) continue;
    const s = summarize(values);
    domains[domain] = { net_median: s.median, net_mean: s.mean, net_ci95: [s.ci[0], s.ci[1]], runs: s.n };
  }
  return {
    unit: `J/${unit}`,
    from: options.work ? `--work ${options.work.amount} ${options.work.unit}` : `--metric ${metric?.name}`,
    work_per_run: options.work?.amount ?? null,
    domains,
  };
}

function metricStats(
  runs: readonly StatsRun[],
  metrics: readonly MetricSpec[],
): Record<string, MetricSummary> {
  const out: Record<string, MetricSummary> = {};
  for (const metric of metrics) {
    const values = finite(runs.map((r) => r.metrics?.[metric.name] ?? Number.NaN));
    if (values.length === 0) {
      out[metric.name] = { unit: metric.unit, runs: 0, median: null, mean: null, ci95: null };
      continue;
    }
    const s = summarize(values);
    out[metric.name] = {
      unit: metric.unit,
      runs: s.n,
      median: s.median,
      mean: s.mean,
      ci95: [s.ci[0], s.ci[1]],
    };
  }
  return out;
}

function finite(values: number[]): number[] {
  return values.filter(Number.isFinite);
}

/** Median per run of each counter, per iteration where runs were iterated. */
function countersMedian(runs: readonly MeasuredRun[]): Record<string, number> {
  const out: Record<string, number> = {};
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.counters)))];
  for (const name of names) {
    const values = runs
      .map((r) => (r.counters[name] === undefined ? undefined : (r.counters[name] as number) / r.iterations))
      .filter((v): v is number => v !== undefined);
    if (values.length > 0) out[name] = median(values);
  }
  return out;
}
