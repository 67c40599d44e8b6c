// The summary of `emp measure` for a person: what failed first, one line per domain, the spread of
// the runs' duration and their counters, then the sampling. Warnings are not here: the CLI writes
// them to stderr (they are in the JSON too).

import { median } from "simple-statistics";
import { formatTable, joules, runSeconds, shellLine } from "../util/table.js";
import type { ChannelResolution } from "./backend.js";
import { failureText, runFailed } from "./run-failure.js";
import type { MeasureSummary, MetricSummary, RunSummary, WorkSummary } from "./summary.js";

/** The first measured run whose command failed, named as a person counts runs ("run 3"). */
export function firstFailure(s: MeasureSummary): string | undefined {
  const measured = s.runs.filter((r) => !r.warmup);
  const exits = measured.map((r) => ({ exitCode: r.exit_code, signal: r.signal }));
  const i = exits.findIndex(runFailed);
  const exit = exits[i];
  return exit === undefined ? undefined : `run ${i + 1} ${failureText(exit)}`;
}

/** Every measured run failed and none is counted: there is no energy of the command's work to show. */
export function everyRunFailed(s: MeasureSummary): boolean {
  return s.failed_runs > 0 && s.runs_counted === 0;
}

function counterValue(name: string, value: number): string {
  if (name === "task-clock" || name === "cpu-clock") return runSeconds(value / 1e9);
  return value >= 1e6 ? value.toExponential(3) : String(Math.round(value));
}

export function formatSummary(s: MeasureSummary): string {
  const lines: string[] = [];
  const measured = s.runs.filter((r) => !r.warmup).length;
  const iterated = s.iterations > 1;
  lines.push(
    `${shellLine(s.command)}: ${measured} run${measured === 1 ? "" : "s"}` +
      (iterated
        ? ` of ${s.iterations} iterations each (--min-run-ms ${s.min_run_ms}): energy and time per iteration`
        : "") +
      (s.label ? ` (${s.label})` : "") +
      (s.estimated ? "  [ESTIMATED: no real energy sensor]" : ""),
  );
  if (s.failed_runs > 0) {
    const what = s.failures_included
      ? "counted in the statistics (--include-failed)"
      : "left out of the statistics (--include-failed counts them)";
    lines.push(`${s.failed_runs} of ${measured} runs failed (first: ${firstFailure(s)}): ${what}`);
  }
  if (s.interrupted) lines.push("interrupted: the runs done so far are kept");
  lines.push("");
  const single = s.runs_counted < 2;
  const unit = iterated ? "J/iter" : "J";
  const header = [
    "domain",
    "source",
    `net median ${unit}`,
    `net 95% CI ${unit}`,
    `raw mean ${unit}`,
    "cv",
    "baseline W",
  ];
  // A domain whose baseline is unknown shows "-" for net and baseline; its raw energy still shows.
  // One run has no spread: no interval and no cv.
  const rows = Object.entries(s.domains).map(([domain, d]) => [
    domain,
    d.source,
    d.net_median_j === null ? "-" : joules(d.net_median_j),
    d.net_ci95_j === null || single ? "-" : `${joules(d.net_ci95_j[0])} .. ${joules(d.net_ci95_j[1])}`,
    joules(d.mean_j),
    d.cv === null ? "-" : `${(d.cv * 100).toFixed(1)} %`,
    d.baseline_w === null ? "-" : d.baseline_w.toFixed(2),
  ]);
  lines.push(...formatTable(header, rows));
  lines.push("");
  const d = s.duration;
  const duration = iterated ? "duration per iteration" : "duration";
  lines.push(
    single
      ? `${duration}: ${runSeconds(d.median_s)} (one run: no spread)`
      : `${duration}: median ${runSeconds(d.median_s)}, 95% CI ${runSeconds(d.ci95_s[0])} .. ${runSeconds(d.ci95_s[1])}, ` +
          `min ${runSeconds(d.min_s)}, max ${runSeconds(d.max_s)}`,
  );
  lines.push(...workLines(s.work, s.metrics));
  const counters = Object.entries(s.counters_median);
  if (counters.length > 0)
    lines.push(
      `counters (median per ${iterated ? "iteration" : "run"}): ${counters.map(([name, v]) => `${name} ${counterValue(name, v)}`).join(", ")}`,
    );
  lines.push(...samplingLines(s));
  if (s.out) lines.push(`results: ${s.out}`);
  return `${lines.join("\n")}\n`;
}

/** The summary's warnings for a person, one per line, for stderr. */
export function formatWarnings(s: MeasureSummary): string {
  return s.warnings.map((w) => `warning: ${w}\n`).join("");
}

/** Energy per unit of work per domain, and each --metric, a line each. */
export function workLines(work: WorkSummary | null, metrics: Record<string, MetricSummary>): string[] {
  const lines: string[] = [];
  if (work !== null) {
    const domains = Object.entries(work.domains).map(
      ([d, w]) =>
        `${d} ${number(w.net_median)} ${work.unit} (95% CI ${number(w.net_ci95[0])} .. ${number(w.net_ci95[1])})`,
    );
    lines.push(
      `net energy per unit of work (${work.from}): ${domains.join(", ") || "- (no run's work is known)"}`,
    );
  }
  for (const [name, m] of Object.entries(metrics)) {
    lines.push(
      m.median === null
        ? `metric ${name}: not found in any run's output`
        : `metric ${name}: median ${number(m.median)}${m.unit ? ` ${m.unit}` : ""} over ${m.runs} runs`,
    );
  }
  return lines;
}

/** Four significant digits, in scientific notation when very large or small. */
function number(v: number): string {
  return v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-3)
    ? v.toExponential(3)
    : String(Number(v.toPrecision(4)));
}

/** "resolution: package-0 changes every 1.00 ms, a median of 52 changes per run": how short a run can be. */
export function resolutionLine(
  resolution: readonly ChannelResolution[],
  runs: readonly Pick<RunSummary, "sensor_updates">[],
): string | undefined {
  if (resolution.length === 0) return undefined;
  const parts = resolution.map((r) => {
    const updates = runs
      .map((run) => run.sensor_updates[r.domain])
      .filter((u): u is number => u !== undefined);
    const perRun = updates.length > 0 ? `, a median of ${median(updates)} changes per run` : "";
    const period =
      r.update_period_ms === null
        ? "changed too rarely to time"
        : `changes every ${r.update_period_ms.toFixed(2)} ms`;
    return `${r.channel} (${r.source}) ${period}${perRun}`;
  });
  return `resolution: ${parts.join("; ")}`;
}

/** The sampling (or that there was none: the estimate) and the resolution each channel had. */
export function samplingLines(
  s: Pick<MeasureSummary, "estimated" | "sampling" | "resolution" | "runs">,
): string[] {
  const sm = s.sampling;
  const lines = [
    s.estimated
      ? "sampling: none (no energy sensor to sample; see the warning on stderr)"
      : `sampling: ${sm.achieved_hz} Hz of ${sm.requested_hz} requested, ${sm.samples} samples, ${sm.dropped} dropped, ` +
        `lateness p50 ${sm.lateness_us.p50} us, p99 ${sm.lateness_us.p99} us, max ${sm.lateness_us.max.toFixed(1)} us` +
        (sm.slow_lag_max_us === null
          ? ""
          : `; slow sources stamped at most ${sm.slow_lag_max_us} us after their read`),
  ];
  const resolution = resolutionLine(
    s.resolution,
    s.runs.filter((r) => !r.warmup),
  );
  if (resolution) lines.push(resolution);
  return lines;
}
