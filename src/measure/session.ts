// `measure(options)`: the whole measurement of a command. Probe, idle baseline, calibration (with
// --min-run-ms), warmups, runs (started by the addon so their boundaries are on the sampler's clock),
// optional post-baseline, then energy per run with the baseline subtracted, and statistics over the
// runs. The session itself is run by session-runner.ts, which emp compare shares.

import { baselineDrift } from "../energy/baseline.js";
import { estimateWarning } from "../energy/estimate.js";
import {
  addon,
  type ContainmentMode,
  type PerfEventName,
  type SensorReport,
  type StdioOption,
} from "../native.js";
import type { RunRecord } from "../results/runs-writer.js";
import { shellLine } from "../util/table.js";
import { type EnergyBackend, unknownIdleWarnings } from "./backend.js";
import { EstimateBackend } from "./estimate-backend.js";
import { runEnergyJ, runMetrics, type Span } from "./meter.js";
import { resolveCommand } from "./preflight.js";
import type { SessionRecorder } from "./recorder.js";
import { commandStats } from "./run-stats.js";
import { selectEnergySources } from "./select-sources.js";
import { SensorBackend } from "./sensor-backend.js";
import {
  type ProgressEvent,
  runSession,
  type SessionResult,
  type SessionRun,
  type SessionRunnerOptions,
} from "./session-runner.js";
import type { MeasureSummary, RunSummary } from "./summary.js";
import { type MetricSpec, type WorkSpec, workValues } from "./work.js";

export type { ProgressEvent } from "./session-runner.js";

export interface MeasureOptions {
  /** The command and its arguments. */
  command: string[];
  sampleHz?: number;
  repeat?: number;
  warmup?: number;
  baselineS?: number;
  cooldownS?: number;
  /** Also sample the idle machine after the runs, and warn when it moved from the first baseline. */
  postBaselineS?: number;
  /** Energy interfaces to read ("msr", "powercap", ...); default: the best one per domain. */
  sources?: string[];
  /** TDP (W) of the estimate used where no energy sensor can be read; default 5 W per CPU. */
  tdpW?: number;
  counters?: PerfEventName[];
  /** Each run lasts until every process the command started has ended (default: until the command exits). */
  waitDescendants?: boolean;
  /** How each run's process tree is held; default "auto" (a cgroup where emp can make one). */
  containment?: ContainmentMode;
  /** Where the command's stdout goes; "stderr" keeps emp's stdout for its JSON. Default: emp's stdout. */
  commandStdout?: StdioOption;
  /** Runs whose command failed count in the statistics; by default they are left out (and counted). */
  includeFailed?: boolean;
  /** Each run lasts at least this long: a shorter command runs back to back inside it, the count calibrated first. */
  minRunMs?: number;
  /** A shell command run before every run, unmeasured. */
  prepare?: string;
  /** Fixed work per run (per iteration): results gain net energy per unit of work. */
  work?: WorkSpec;
  /** Numbers captured from each run's output; the first gives the work where --work is not given. */
  metrics?: MetricSpec[];
  /** Where the output of `prepare` goes (appended); default /dev/null. */
  shellLog?: string;
  label?: string;
  /** Aborting stops the session after killing the run in progress; the runs done are kept. */
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
  /** Where results were written, reported in the summary. */
  out?: string;
  /** Builds the backend; the CLI and tests pass the estimate where no sensor can be read. */
  backend?: EnergyBackend;
  /** Writes the session directory as the measurement goes. */
  recorder?: SessionRecorder;
  /** Said before the session started (by the preflight): listed first among the summary's warnings. */
  warnings?: string[];
}

export const MEASURE_DEFAULTS = {
  sampleHz: 1000,
  repeat: 10,
  warmup: 1,
  baselineS: 5,
  cooldownS: 0,
  counters: ["task-clock", "context-switches", "page-faults", "cycles", "instructions"] as PerfEventName[],
};

/** Picks the backend for these options: the sensors, one interface per domain. */
export function sensorBackend(
  options: Pick<MeasureOptions, "sources" | "sampleHz">,
  reports: readonly SensorReport[] = addon.probe(),
): SensorBackend | undefined {
  const selection = selectEnergySources(reports, options.sources);
  if (selection.domains.length === 0) return undefined;
  return new SensorBackend(selection, options.sampleHz ?? MEASURE_DEFAULTS.sampleHz);
}

/** The sensors where any can be read; otherwise the labelled estimate, with the probe's reason. */
export function chooseBackend(
  options: Pick<MeasureOptions, "sources" | "sampleHz" | "tdpW">,
  reports: readonly SensorReport[] = addon.probe(),
): EnergyBackend {
  return (
    sensorBackend(options, reports) ??
    new EstimateBackend(
      estimateWarning(reports) ?? "energy is ESTIMATED: no energy sensor can be read",
      options.tdpW,
    )
  );
}

export async function measure(options: MeasureOptions): Promise<MeasureSummary> {
  const [file, ...args] = options.command;
  if (file === undefined) throw new TypeError("measure needs a command");
  resolveCommand(file);
  const backend = options.backend ?? chooseBackend(options);
  const recorder = options.recorder;
  const result = await runSession({
    commands: [{ name: shellLine(options.command), file, args, prepare: options.prepare }],
    ...runnerOptions(options, backend),
    order: "grouped",
    seed: 0,
    onRun: (run) =>
      recorder?.run(runRecord(run, { label: options.label, work: options.work, metrics: options.metrics })),
  });
  const warnings = [...(options.warnings ?? []), ...result.warnings, ...sessionWarnings(backend, result)];
  const summary = summariseSession(options, backend, result, warnings);
  recorder?.summary(summary);
  return summary;
}

/** What emp measure and emp compare pass the session runner alike: their shared options, defaults filled in. */
export function runnerOptions(
  options: Omit<MeasureOptions, "command" | "prepare">,
  backend: EnergyBackend,
): Omit<SessionRunnerOptions, "commands" | "order" | "seed" | "onRun"> {
  return {
    backend,
    repeat: options.repeat ?? MEASURE_DEFAULTS.repeat,
    warmup: options.warmup ?? MEASURE_DEFAULTS.warmup,
    baselineS: options.baselineS ?? MEASURE_DEFAULTS.baselineS,
    cooldownS: options.cooldownS ?? MEASURE_DEFAULTS.cooldownS,
    postBaselineS: options.postBaselineS,
    minRunMs: options.minRunMs,
    counters: options.counters ?? MEASURE_DEFAULTS.counters,
    waitDescendants: options.waitDescendants,
    containment: options.containment,
    commandStdout: options.commandStdout,
    shellLog: options.shellLog,
    metrics: options.metrics,
    signal: options.signal,
    recorder: options.recorder,
    onProgress: options.onProgress,
  };
}

/** The post-baseline's drift from the baseline, then each run's warnings, named by the run. */
export function sessionWarnings(
  backend: EnergyBackend,
  result: SessionResult,
  commandName?: (run: SessionRun) => string,
): string[] {
  const out: string[] = [];
  if (result.baseline && result.post)
    out.push(...driftWarnings(backend, result.baseline, result.baselineW, result.post));
  const names = runNames(result.runs);
  result.runs.forEach((run, i) => {
    const name = commandName ? `${commandName(run)} ${names[i]}` : names[i];
    for (const w of run.warnings) out.push(`${name}: ${w}`);
  });
  return out;
}

/**
 * "calibration 1", "warmup 1", "run 3" for each run: each kind counted from 1 (per command), as a
 * person reads them.
 */
export function runNames(runs: readonly Pick<SessionRun, "warmup" | "calibration" | "command">[]): string[] {
  const counts = new Map<string, number>();
  return runs.map((r) => {
    const kind = r.calibration ? "calibration" : r.warmup ? "warmup" : "run";
    const key = `${r.command} ${kind}`;
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    return `${kind} ${n}`;
  });
}

/**
 * A run's row in runs.arrow; `command` names it where a session has several (emp compare). With
 * --metric and --work it holds their values and the net energy per unit of work (per iteration).
 */
export function runRecord(
  run: SessionRun,
  options: { label?: string; command?: string; work?: WorkSpec; metrics?: readonly MetricSpec[] },
): RunRecord {
  const extra = workValues(run, run.metrics, options.work, options.metrics);
  return {
    label: options.label ?? "",
    command: options.command ?? null,
    index: run.ordinal,
    run: run.ordinal,
    warmup: run.warmup,
    iterations: run.iterations,
    startNs: run.startNs,
    endNs: run.endNs,
    exitCode: run.exitCode,
    signal: run.signal,
    energy: runEnergyJ(run),
    metrics: { ...runMetrics(run), ...extra },
    warnings: run.warnings,
  };
}

/** A run's line in the summary. */
export function runSummary(run: SessionRun, name: string): RunSummary {
  const energyJ: Record<string, number> = {};
  const netJ: Record<string, number | null> = {};
  for (const [domain, e] of Object.entries(run.energy)) {
    energyJ[domain] = e.rawJ;
    netJ[domain] = e.netJ;
  }
  return {
    index: run.ordinal,
    name,
    warmup: run.warmup,
    iterations: run.iterations,
    exit_code: run.exitCode,
    signal: run.signal,
    duration_s: run.durationS,
    energy_j: energyJ,
    net_energy_j: netJ,
    counters: run.counters,
    sensor_updates: run.updates,
    metrics: run.metrics,
    descendants: run.descendants,
    warnings: run.warnings,
  };
}

function driftWarnings(
  backend: EnergyBackend,
  pre: Span,
  preW: Record<string, number>,
  post: Span,
): string[] {
  const postIdle = backend.idlePower(post.startNs, post.endNs);
  const out = unknownIdleWarnings("post-baseline", postIdle);
  for (const { domain } of backend.domains) {
    const preDomainW = preW[domain];
    const postDomainW = postIdle.powerW[domain];
    // An unknown side has its own warning; there is nothing to compare.
    if (preDomainW === undefined || postDomainW === undefined) continue;
    const baseline = (span: Span, powerW: number) => ({
      domain,
      ...span,
      durationS: Number(span.endNs - span.startNs) / 1e9,
      energyJ: 0,
      powerW,
    });
    const drift = baselineDrift(baseline(pre, preDomainW), baseline(post, postDomainW));
    if (drift.warning) out.push(drift.warning.message);
  }
  return out;
}

/** The summary of a measured session of one command (or function). */
export function summariseSession(
  options: MeasureOptions,
  backend: EnergyBackend,
  result: SessionResult,
  warnings: string[],
): MeasureSummary {
  const { runs, baseline, baselineW } = result;
  const names = runNames(runs);
  const stats = commandStats(
    backend,
    runs.filter((r) => !r.warmup),
    baselineW,
    options.includeFailed ?? false,
    options,
  );
  warnings.push(...stats.warnings);
  return {
    out: options.out ?? null,
    estimated: backend.estimated,
    command: options.command,
    label: options.label ?? null,
    sampling: backend.sampling(),
    resolution: backend.resolution(),
    baseline: {
      duration_s: baseline ? Number(baseline.endNs - baseline.startNs) / 1e9 : 0,
      power_w: Object.fromEntries(backend.domains.map((d) => [d.domain, baselineW[d.domain] ?? null])),
    },
    domains: stats.domains,
    duration: stats.duration,
    iterations: result.iterations[0] ?? 1,
    work: stats.work,
    metrics: stats.metrics,
    min_run_ms: options.minRunMs ?? null,
    runs_counted: stats.runs_counted,
    counters_median: stats.counters_median,
    failed_runs: stats.failed_runs,
    failures_included: options.includeFailed ?? false,
    runs: runs.map((run, i) => runSummary(run, names[i] ?? "")),
    interrupted: runs.filter((r) => !r.calibration).length < result.requested,
    // A backend warning that a run already carries is listed once, as that run's.
    warnings: [...warnings, ...backend.warnings().filter((w) => !runs.some((r) => r.warnings.includes(w)))],
  };
}
