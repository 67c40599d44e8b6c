// Energy per unit of work. Energy per run means nothing for a benchmark that runs for a fixed time
// instead of fixed work: a faster build does more work in the same time and seems to cost the same.
// `--work N UNIT` says how much work one run (one iteration) does; `--metric NAME=REGEX` captures a
// number from each run's output (bytes done, or a rate such as MB/s), which also gives the work.
import { UsageError } from "../errors.js";

/** Fixed work per run (per iteration where iterated): `--work 100 MB`. */
export interface WorkSpec {
  amount: number;
  unit: string;
}

/** A number captured from each run's output by the first group of `pattern` (or its whole match). */
export interface MetricSpec {
  name: string;
  /** "MB/s", "ops"; "" when not given. A unit ending in "/s" is a rate. */
  unit: string;
  pattern: string;
}

const FIX_METRIC =
  "for example --metric 'throughput[MB/s]=([0-9.]+) MB/s' (NAME, an optional [UNIT], =, a regular expression)";

/** Parses `--work N UNIT` as given (two words). */
export function parseWork(amount: string, unit: string): WorkSpec {
  const n = Number(amount);
  if (amount.trim() === "" || !Number.isFinite(n) || n <= 0) {
    throw new UsageError(`--work ${amount} ${unit}: the amount must be a number above 0`, {
      suggestion: "for example --work 256 MB (the work one run does)",
    });
  }
  if (!/^\S+$/.test(unit)) {
    throw new UsageError(`--work ${amount} ${unit}: the unit must be one word`, {
      suggestion: "for example MB, ops, requests",
    });
  }
  return { amount: n, unit };
}

/** Parses `--metric NAME[UNIT]=REGEX`. */
export function parseMetric(text: string): MetricSpec {
  const match = /^([A-Za-z_]\w*)(?:\[([^\]]+)\])?=(.+)$/s.exec(text);
  if (match === null) throw new UsageError(`--metric ${text}: not NAME=REGEX`, { suggestion: FIX_METRIC });
  const [, name = "", unit = "", pattern = ""] = match;
  try {
    new RegExp(pattern);
  } catch (error) {
    throw new UsageError(`--metric ${name}: not a regular expression: ${(error as Error).message}`, {
      suggestion: FIX_METRIC,
    });
  }
  return { name, unit, pattern };
}

/** A rate (MB/s, ops/s): the work of a run is the rate times its duration. */
export function isRate(metric: Pick<MetricSpec, "unit">): boolean {
  return metric.unit.endsWith("/s");
}

/**
 * The metric's value in a run's output: the sum of every match where it is an amount (each
 * iteration prints its own), their mean where it is a rate; null when nothing matched or a match is
 * not a number.
 */
export function captureMetric(metric: MetricSpec, output: string): number | null {
  const values: number[] = [];
  for (const m of output.matchAll(new RegExp(metric.pattern, "g"))) {
    const text = m[1] ?? m[0];
    const value = Number(text.replaceAll(",", ""));
    if (text.trim() === "" || !Number.isFinite(value)) return null;
    values.push(value);
    if (m[0] === "") break; // an empty match would repeat for ever
  }
  if (values.length === 0) return null;
  const sum = values.reduce((a, b) => a + b, 0);
  return isRate(metric) ? sum / values.length : sum;
}

/** What one unit of work is called: the --work unit, or the metric's unit without "/s". */
export function workUnit(work: WorkSpec | undefined, metric: MetricSpec | undefined): string | undefined {
  if (work !== undefined) return work.unit;
  if (metric === undefined) return undefined;
  return (isRate(metric) ? metric.unit.slice(0, -2) : metric.unit) || metric.name;
}

/**
 * The work one iteration of a run did: --work's amount, else the first metric's (a rate times the
 * iteration's duration, or the amount per iteration); null where the metric was not found.
 */
export function workPerIteration(
  work: WorkSpec | undefined,
  metric: MetricSpec | undefined,
  value: number | null | undefined,
  durationS: number,
  iterations: number,
): number | null {
  if (work !== undefined) return work.amount;
  if (metric === undefined || value === null || value === undefined) return null;
  return isRate(metric) ? (value * durationS) / iterations : value / iterations;
}

/** runs.arrow's columns for --metric values and energy per unit of work, with their units. */
export function workColumns(
  domains: readonly string[],
  work: WorkSpec | undefined,
  metrics: readonly MetricSpec[],
): { name: string; unit: string }[] {
  const unit = workUnit(work, metrics[0]);
  return [
    ...(unit === undefined ? [] : domains.map((d) => ({ name: workColumn(d), unit: `J/${unit}` }))),
    ...metrics.map((m) => ({ name: metricColumn(m.name), unit: m.unit })),
  ];
}

/** The column of a --metric's value in runs.arrow. */
export function metricColumn(name: string): string {
  return `metric_${name}`;
}

/** The column of a domain's net energy per unit of work (per iteration) in runs.arrow. */
export function workColumn(domain: string): string {
  return `${domain}_net_j_per_unit`;
}

/**
 * Net energy per unit of work of one run in J/unit: its net energy per iteration over the work of
 * one iteration (workPerIteration); null where either is unknown.
 */
export function netJPerUnit(
  netJ: number | null | undefined,
  run: { durationS: number; iterations: number; metrics?: Record<string, number | null> },
  work: WorkSpec | undefined,
  metrics: readonly MetricSpec[] | undefined,
): number | null {
  const metric = metrics?.[0];
  if (workUnit(work, metric) === undefined || netJ === null || netJ === undefined) return null;
  const done = workPerIteration(
    work,
    metric,
    run.metrics?.[metric?.name ?? ""],
    run.durationS,
    run.iterations,
  );
  return done === null || done <= 0 ? null : netJ / run.iterations / done;
}

/** Energy per run follows duration: past this ratio between the groups compared, a time-bounded benchmark is likely. */
export const DURATION_RATIO_WARNING = 2;

/**
 * A warning when the median durations of the groups compared (commands, commits, labels) differ by
 * more than DURATION_RATIO_WARNING: their energy per run differs for that reason alone, and where the
 * benchmark runs for a fixed time rather than fixed work, energy per run compares nothing.
 */
export function durationSpreadWarning(groups: readonly { name: string; medianS: number }[]): string | null {
  const timed = groups.filter((g) => g.medianS > 0);
  if (timed.length < 2) return null;
  const shortest = timed.reduce((a, b) => (b.medianS < a.medianS ? b : a));
  const longest = timed.reduce((a, b) => (b.medianS > a.medianS ? b : a));
  if (longest.medianS <= DURATION_RATIO_WARNING * shortest.medianS) return null;
  return (
    `run durations differ by more than ${DURATION_RATIO_WARNING}x (median ${(shortest.medianS * 1000).toPrecision(3)} ms for ${shortest.name}, ` +
    `${(longest.medianS * 1000).toPrecision(3)} ms for ${longest.name}): energy per run follows duration; is the benchmark time-bounded ` +
    "(a fixed time, not fixed work)? then compare energy per unit of work: --work N UNIT or --metric NAME=REGEX"
  );
}

/** Whether a column name is one of metricColumn's or workColumn's. */
export function isWorkColumn(name: string): boolean {
  return name.startsWith("metric_") || name.endsWith("_net_j_per_unit");
}

/**
 * A run's values for runs.arrow's (and the ledger's) work columns: each metric's value, and per
 * domain its net energy per unit of work where `work` or the first metric gives the work.
 */
export function workValues(
  run: { durationS: number; iterations: number; energy: Record<string, { netJ: number | null }> },
  captured: Record<string, number | null>,
  work: WorkSpec | undefined,
  metrics: readonly MetricSpec[] | undefined,
): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const [name, value] of Object.entries(captured)) out[metricColumn(name)] = value;
  if (workUnit(work, metrics?.[0]) !== undefined) {
    const withMetrics = { durationS: run.durationS, iterations: run.iterations, metrics: captured };
    for (const [domain, e] of Object.entries(run.energy)) {
      out[workColumn(domain)] = netJPerUnit(e.netJ, withMetrics, work, metrics);
    }
  }
  return out;
}
