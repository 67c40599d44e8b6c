// `measure(options)`: the whole measurement of a command. Probe, idle baseline, warmups, runs
// (started by the addon so their boundaries are on the sampler's clock), optional post-baseline,
// then energy per run with the baseline subtracted, and statistics over the runs.
import { baselineDrift, type NetEnergy, netEnergy } from "../energy/baseline.js";
import { estimateWarning } from "../energy/estimate.js";
import { addon, type PerfEventName, type SensorReport } from "../native.js";
import type { RunEnergyJ, RunRecord } from "../results/runs-writer.js";
import type { Phase } from "../results/samples-writer.js";
import { type ChildResult, MeasuredChild, scaledCount } from "../sampling/child.js";
import { nowNs } from "../sampling/sampler.js";
import { summarize } from "../stats/summary.js";
import type { EnergyBackend } from "./backend.js";
import { EstimateBackend } from "./estimate-backend.js";
import { resolveCommand } from "./preflight.js";
import type { SessionRecorder } from "./recorder.js";
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
}

export type ProgressEvent =
  | { kind: "phase"; phase: "baseline" | "post-baseline" | "cooldown"; seconds: number }
  | { kind: "run-start"; index: number; warmup: boolean; total: number }
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

/** Below this many samples in a run, its energy rests on too few readings to trust. */
const MIN_SAMPLES_PER_RUN = 10;

/** Least time kept sampling after a run (or baseline) ends, so its end lies between two fresh readings. */
const TAIL_MS = 20;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

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
  const counters = options.counters ?? MEASURE_DEFAULTS.counters;
  const backend = options.backend ?? chooseBackend(options);
  const signal = options.signal;
  const progress = options.onProgress ?? (() => {});
  const recorder = options.recorder;
  const warnings: string[] = [];

  let phase: Phase = "baseline";
  let runIndex: number | null = null;
  const drain = () => {
    const batch = backend.drain();
    if (batch) recorder?.samplesOf(batch, phase, runIndex);
  };
  /** Samples a little past `endNs` so it lies between two fresh readings, then takes them in. */
  const settle = async () => {
    const periodMs = Math.max(0, ...backend.domains.map((d) => backend.updatePeriodMs(d.domain) ?? 0));
    await sleep(Math.max(TAIL_MS, 3 * periodMs));
    drain();
  };

  const runs: MeasuredRun[] = [];
  let baselineW: Record<string, number> = {};
  let baselineSpan: Span | undefined;
  let postSpan: Span | undefined;
  const drainTimer = setInterval(drain, 50);
  backend.start();
  try {
    progress({ kind: "phase", phase: "baseline", seconds: baselineS });
    const b0 = nowNs();
    await sleep(baselineS * 1000, signal);
    baselineSpan = { startNs: b0, endNs: nowNs() };
    await settle();
    baselineW = backend.baselineW(baselineSpan.startNs, baselineSpan.endNs);
    recorder?.commit();

    const total = warmup + repeat;
    for (let i = 0; i < total && !signal?.aborted; i++) {
      const isWarmup = i < warmup;
      progress({ kind: "run-start", index: i, warmup: isWarmup, total });
      drain();
      phase = isWarmup ? "warmup" : "run";
      runIndex = i;
      backend.runStarting?.();
      const child = MeasuredChild.start({ file, args, counters });
      const kill = () => child.kill("SIGTERM");
      signal?.addEventListener("abort", kill, { once: true });
      const result = await child.wait();
      signal?.removeEventListener("abort", kill);
      if (signal?.aborted) break; // the run in progress was cut short: it is not a measurement
      drain();
      // The settling tail after the run is idle time: its ticks are cooldown, not the run.
      phase = "cooldown";
      runIndex = null;
      await settle();
      if (i === 0 && result.skipped.length > 0) {
        warnings.push(`counters not available here: ${result.skipped.map((s) => s.name).join(", ")}`);
      }
      const run = runSummary(i, isWarmup, result, backend, baselineW);
      runs.push(run);
      recorder?.run(runRecord(run, result, options.label));
      recorder?.commit();
      progress({
        kind: "run-end",
        index: i,
        warmup: isWarmup,
        total,
        durationS: run.duration_s,
        exitCode: run.exit_code,
      });
      if (cooldownS > 0 && i < total - 1) {
        progress({ kind: "phase", phase: "cooldown", seconds: cooldownS });
        await sleep(cooldownS * 1000, signal);
      }
    }
    if (options.postBaselineS !== undefined && options.postBaselineS > 0 && !signal?.aborted) {
      progress({ kind: "phase", phase: "post-baseline", seconds: options.postBaselineS });
      drain();
      phase = "post-baseline";
      const p0 = nowNs();
      await sleep(options.postBaselineS * 1000, signal);
      postSpan = { startNs: p0, endNs: nowNs() };
      await settle();
    }
  } finally {
    clearInterval(drainTimer);
    backend.stop();
    drain();
    recorder?.close();
  }

  if (baselineSpan && postSpan) warnings.push(...driftWarnings(backend, baselineSpan, baselineW, postSpan));
  for (const run of runs) for (const w of run.warnings) warnings.push(`run ${run.index}: ${w}`);
  const summary = summarise(options, backend, runs, baselineSpan, baselineW, warmup + repeat, warnings);
  recorder?.summary(summary);
  return summary;
}

interface Span {
  startNs: bigint;
  endNs: bigint;
}

/** A run as the session keeps it: its summary line, plus what runs.arrow needs beside it. */
type MeasuredRun = RunSummary & { warnings: string[]; energy: Record<string, NetEnergy> };

/** One run's record in the summary: energy per domain raw and net of the baseline, counters. */
function runSummary(
  index: number,
  warmup: boolean,
  result: ChildResult,
  backend: EnergyBackend,
  baselineW: Record<string, number>,
): MeasuredRun {
  const durationS = Number(result.durationNs) / 1e9;
  const energy: Record<string, NetEnergy> = {};
  const energyJ: Record<string, number> = {};
  const netJ: Record<string, number> = {};
  const warnings: string[] = [];
  for (const [domain, e] of Object.entries(backend.runEnergy(result))) {
    const net = netEnergy(domain, e.rawJ, durationS, baselineW[domain] ?? 0);
    energy[domain] = net;
    energyJ[domain] = net.rawJ;
    netJ[domain] = net.netJ;
    warnings.push(...e.warnings);
  }
  const counters: Record<string, number> = {};
  for (const [name, reading] of Object.entries(result.counters)) {
    if (reading) counters[name] = scaledCount(reading);
  }
  if (result.exitCode !== 0) {
    warnings.push(
      `${result.signal ? `ended by ${result.signal}` : `exited with ${result.exitCode}`}: its energy is kept but may not be comparable`,
    );
  }
  return {
    index,
    warmup,
    exit_code: result.exitCode,
    signal: result.signal,
    duration_s: durationS,
    energy_j: energyJ,
    net_energy_j: netJ,
    counters,
    warnings,
    energy,
  };
}

function runRecord(run: MeasuredRun, result: ChildResult, label?: string): RunRecord {
  const energy: Record<string, RunEnergyJ> = {};
  for (const [domain, e] of Object.entries(run.energy)) {
    energy[domain] = { rawJ: e.rawJ, baselineJ: e.baselineJ, netJ: e.netJ };
  }
  return {
    label: label ?? "",
    index: run.index,
    warmup: run.warmup,
    startNs: result.startNs,
    endNs: result.endNs,
    exitCode: run.exit_code,
    signal: run.signal,
    energy,
    metrics: run.counters,
    warnings: run.warnings,
  };
}

function driftWarnings(
  backend: EnergyBackend,
  pre: Span,
  preW: Record<string, number>,
  post: Span,
): string[] {
  const postW = backend.baselineW(post.startNs, post.endNs);
  const out: string[] = [];
  for (const { domain } of backend.domains) {
    const baseline = (span: Span, w: Record<string, number>) => ({
      domain,
      ...span,
      durationS: Number(span.endNs - span.startNs) / 1e9,
      energyJ: 0,
      powerW: w[domain] ?? 0,
    });
    const drift = baselineDrift(baseline(pre, preW), baseline(post, postW));
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
  const measured = runs.filter((r) => !r.warmup);
  const domains: Record<string, DomainSummary> = {};
  for (const { domain, source } of backend.domains) {
    const raw = measured.map((r) => r.energy_j[domain] ?? Number.NaN).filter(Number.isFinite);
    const net = measured.map((r) => r.net_energy_j[domain] ?? Number.NaN).filter(Number.isFinite);
    if (raw.length === 0) continue;
    const r = summarize(raw);
    const n = summarize(net);
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
      baseline_w: baselineW[domain] ?? 0,
      net_mean_j: n.mean,
      net_median_j: n.median,
      net_ci95_j: [n.ci[0], n.ci[1]],
      update_period_ms: periodMs,
    };
    const shortest = Math.min(...measured.map((m) => m.duration_s));
    if (periodMs !== null && shortest * 1000 < 5 * periodMs) {
      warnings.push(
        `${domain}: the shortest run (${(shortest * 1000).toFixed(2)} ms) lasts fewer than 5 sensor updates (${periodMs.toFixed(2)} ms each); repeat the work inside the command to measure it`,
      );
    }
  }
  const sampling = backend.sampling();
  const fewest = Math.min(...measured.map((m) => m.duration_s)) * sampling.achieved_hz;
  if (!backend.estimated && measured.length > 0 && fewest < MIN_SAMPLES_PER_RUN) {
    warnings.push(
      `the shortest run holds about ${Math.floor(fewest)} samples (fewer than ${MIN_SAMPLES_PER_RUN}); raise --sample-hz or make the run longer`,
    );
  }
  const durations = measured.map((m) => m.duration_s);
  const d = durations.length > 0 ? summarize(durations) : undefined;
  return {
    out: options.out ?? null,
    estimated: backend.estimated,
    command: options.command,
    label: options.label ?? null,
    sampling,
    baseline: {
      duration_s: baseline ? Number(baseline.endNs - baseline.startNs) / 1e9 : 0,
      power_w: baselineW,
    },
    domains,
    duration: {
      mean_s: d?.mean ?? 0,
      median_s: d?.median ?? 0,
      stdev_s: d?.stdev ?? null,
      ci95_s: d ? [d.ci[0], d.ci[1]] : [0, 0],
    },
    runs: runs.map(({ warnings: _w, energy: _e, ...run }: MeasuredRun) => run),
    interrupted: runs.length < requested,
    warnings: [...warnings, ...backend.warnings()],
  };
}
