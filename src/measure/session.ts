// `measure(options)`: the whole measurement of a command. Probe, idle baseline, warmups, runs
// (started by the addon so their boundaries are on the sampler's clock), optional post-baseline,
// then energy per run with the baseline subtracted, and statistics over the runs.

import { median } from "simple-statistics";
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
import { summarize } from "../stats/summary.js";
import { type EnergyBackend, unknownIdleWarnings } from "./backend.js";
import { EstimateBackend } from "./estimate-backend.js";
import { type MeasuredRun, Meter, runEnergyJ, runMetrics, type Span } from "./meter.js";
import { resolveCommand } from "./preflight.js";
import type { SessionRecorder } from "./recorder.js";
import { runFailed } from "./run-failure.js";
import { selectEnergySources } from "./select-sources.js";
import { SensorBackend } from "./sensor-backend.js";
import type { DomainSummary, MeasureSummary, RunSummary } from "./summary.js";

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

export type ProgressEvent =
  | { kind: "phase"; phase: "baseline" | "post-baseline" | "cooldown"; seconds: number }
  /** `index` counts warmups and runs together, from 0; `pid` is the command's. */
  | { kind: "run-start"; index: number; warmup: boolean; total: number; pid: number }
  | {
      kind: "run-end";
      index: number;
      warmup: boolean;
      total: number;
      durationS: number;
      exitCode: number | null;
    };

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
  const repeat = options.repeat ?? MEASURE_DEFAULTS.repeat;
  const warmup = options.warmup ?? MEASURE_DEFAULTS.warmup;
  const baselineS = options.baselineS ?? MEASURE_DEFAULTS.baselineS;
  const cooldownS = options.cooldownS ?? MEASURE_DEFAULTS.cooldownS;
  const backend = options.backend ?? chooseBackend(options);
  const signal = options.signal;
  const progress = options.onProgress ?? (() => {});
  const recorder = options.recorder;
  const meter = new Meter(backend, {
    sink: recorder,
    counters: options.counters ?? MEASURE_DEFAULTS.counters,
    signal,
    containment: options.containment,
  });
  const warnings: string[] = [...(options.warnings ?? [])];

  const runs: MeasuredRun[] = [];
  let baselineW: Record<string, number> = {};
  let baselineSpan: Span | undefined;
  let postSpan: Span | undefined;
  meter.start();
  try {
    progress({ kind: "phase", phase: "baseline", seconds: baselineS });
    baselineSpan = await meter.idle(baselineS, "baseline");
    const idle = backend.idlePower(baselineSpan.startNs, baselineSpan.endNs);
    baselineW = idle.powerW;
    warnings.push(...unknownIdleWarnings("baseline", idle));

    const total = warmup + repeat;
    for (let i = 0; i < total && !signal?.aborted; i++) {
      const isWarmup = i < warmup;
      const run = await meter.measure(
        {
          file,
          args,
          waitDescendants: options.waitDescendants,
          stdout: options.commandStdout,
          onStarted: ({ pid }) => progress({ kind: "run-start", index: i, warmup: isWarmup, total, pid }),
        },
        isWarmup,
        baselineW,
      );
      if (run === undefined) break; // the run in progress was cut short: it is not a measurement
      runs.push(run);
      recorder?.run(runRecord(run, options.label));
      progress({
        kind: "run-end",
        index: i,
        warmup: isWarmup,
        total,
        durationS: run.durationS,
        exitCode: run.exitCode,
      });
      if (cooldownS > 0 && i < total - 1) {
        progress({ kind: "phase", phase: "cooldown", seconds: cooldownS });
        await meter.cooldown(cooldownS);
      }
    }
    if (options.postBaselineS !== undefined && options.postBaselineS > 0 && !signal?.aborted) {
      progress({ kind: "phase", phase: "post-baseline", seconds: options.postBaselineS });
      postSpan = await meter.idle(options.postBaselineS, "post-baseline");
    }
  } finally {
    meter.stop();
    recorder?.close();
  }

  warnings.push(...meter.warnings);
  if (baselineSpan && postSpan) warnings.push(...driftWarnings(backend, baselineSpan, baselineW, postSpan));
  const names = runNames(runs);
  runs.forEach((run, i) => {
    for (const w of run.warnings) warnings.push(`${names[i]}: ${w}`);
  });
  const summary = summarise(options, backend, runs, baselineSpan, baselineW, warmup + repeat, warnings);
  recorder?.summary(summary);
  return summary;
}

/** "warmup 1", "run 3" for each run: warmups and measured runs each counted from 1, as a person reads them. */
function runNames(runs: readonly Pick<MeasuredRun, "warmup">[]): string[] {
  let warmups = 0;
  let measured = 0;
  return runs.map((r) => (r.warmup ? `warmup ${++warmups}` : `run ${++measured}`));
}

function runRecord(run: MeasuredRun, label?: string): RunRecord {
  return {
    label: label ?? "",
    index: run.ordinal,
    run: run.ordinal,
    warmup: run.warmup,
    startNs: run.startNs,
    endNs: run.endNs,
    exitCode: run.exitCode,
    signal: run.signal,
    energy: runEnergyJ(run),
    metrics: runMetrics(run),
    warnings: run.warnings,
  };
}

/** A run's line in the summary. */
function runSummary(run: MeasuredRun, name: string): RunSummary {
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
    exit_code: run.exitCode,
    signal: run.signal,
    duration_s: run.durationS,
    energy_j: energyJ,
    net_energy_j: netJ,
    counters: run.counters,
    descendants: run.descendants,
    warnings: run.warnings,
  };
}

function countersMedian(runs: readonly MeasuredRun[]): Record<string, number> {
  const out: Record<string, number> = {};
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.counters)))];
  for (const name of names) {
    const values = runs.map((r) => r.counters[name]).filter((v): v is number => v !== undefined);
    if (values.length > 0) out[name] = median(values);
  }
  return out;
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

function summarise(
  options: MeasureOptions,
  backend: EnergyBackend,
  runs: readonly MeasuredRun[],
  baseline: Span | undefined,
  baselineW: Record<string, number>,
  requested: number,
  warnings: string[],
): MeasureSummary {
  const names = runNames(runs);
  const all = runs.filter((r) => !r.warmup);
  const failed = all.filter(runFailed);
  const measured = options.includeFailed ? all : all.filter((r) => !runFailed(r));
  const domains: Record<string, DomainSummary> = {};
  for (const { domain, source } of backend.domains) {
    const raw = measured.map((r) => r.energy[domain]?.rawJ ?? Number.NaN).filter(Number.isFinite);
    const net = measured.map((r) => r.energy[domain]?.netJ ?? Number.NaN).filter(Number.isFinite);
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
      update_period_ms: periodMs,
    };
    const shortest = Math.min(...measured.map((m) => m.durationS));
    if (periodMs !== null && shortest * 1000 < 5 * periodMs) {
      warnings.push(
        `${domain}: the shortest run (${(shortest * 1000).toFixed(2)} ms) lasts fewer than 5 sensor updates (${periodMs.toFixed(2)} ms each); repeat the work inside the command to measure it`,
      );
    }
  }
  const sampling = backend.sampling();
  const durations = measured.map((m) => m.durationS);
  const d = durations.length > 0 ? summarize(durations) : undefined;
  return {
    out: options.out ?? null,
    estimated: backend.estimated,
    command: options.command,
    label: options.label ?? null,
    sampling,
    baseline: {
      duration_s: baseline ? Number(baseline.endNs - baseline.startNs) / 1e9 : 0,
      power_w: Object.fromEntries(backend.domains.map((d) => [d.domain, baselineW[d.domain] ?? null])),
    },
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
    counters_median: countersMedian(measured),
    failed_runs: failed.length,
    failures_included: options.includeFailed ?? false,
    runs: runs.map((run, i) => runSummary(run, names[i] ?? "")),
    interrupted: runs.length < requested,
    // A backend warning that a run already carries is listed once, as that run's.
    warnings: [...warnings, ...backend.warnings().filter((w) => !runs.some((r) => r.warnings.includes(w)))],
  };
}
