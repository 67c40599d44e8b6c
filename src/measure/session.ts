// `measure(options)`: the whole measurement of a command. Probe, idle baseline, warmups, runs
// (started by the addon so their boundaries are on the sampler's clock), optional post-baseline,
// then energy per run with the baseline subtracted, and statistics over the runs.
import { baselineDrift } from "../energy/baseline.js";
import { addon, type PerfEventName } from "../native.js";
import { type ChildResult, MeasuredChild, scaledCount } from "../sampling/child.js";
import { nowNs } from "../sampling/sampler.js";
import { summarize } from "../stats/summary.js";
import type { EnergyBackend } from "./backend.js";
import { resolveCommand } from "./preflight.js";
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
  counters?: PerfEventName[];
  label?: string;
  /** Aborting stops the session after killing the run in progress; the runs done are kept. */
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
  /** Where results were written, reported in the summary. */
  out?: string;
  /** Builds the backend; the CLI and tests pass the estimate where no sensor can be read. */
  backend?: EnergyBackend;
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

/** Time kept sampling after the last run so its end lies between two fresh readings. */
const TAIL_MS = 50;

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
): SensorBackend | undefined {
  const selection = selectEnergySources(addon.probe(), options.sources);
  if (selection.domains.length === 0) return undefined;
  return new SensorBackend(selection, options.sampleHz ?? MEASURE_DEFAULTS.sampleHz);
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
  const backend = options.backend ?? sensorBackend(options);
  if (backend === undefined) throw new TypeError("no energy backend: pass the estimate backend");
  const signal = options.signal;
  const progress = options.onProgress ?? (() => {});
  const warnings: string[] = [];

  const results: Array<{ result: ChildResult; warmup: boolean }> = [];
  const drainTimer = setInterval(() => backend.drain(), 50);
  let baseline: { startNs: bigint; endNs: bigint } | undefined;
  let postBaseline: { startNs: bigint; endNs: bigint } | undefined;
  backend.start();
  try {
    progress({ kind: "phase", phase: "baseline", seconds: baselineS });
    const b0 = nowNs();
    await sleep(baselineS * 1000, signal);
    baseline = { startNs: b0, endNs: nowNs() };

    const total = warmup + repeat;
    for (let i = 0; i < total && !signal?.aborted; i++) {
      const isWarmup = i < warmup;
      progress({ kind: "run-start", index: i, warmup: isWarmup, total });
      const child = MeasuredChild.start({ file, args, counters });
      const kill = () => child.kill("SIGTERM");
      signal?.addEventListener("abort", kill, { once: true });
      const result = await child.wait();
      signal?.removeEventListener("abort", kill);
      if (signal?.aborted) break; // the run in progress was cut short: it is not a measurement
      if (i === 0 && result.skipped.length > 0) {
        warnings.push(`counters not available here: ${result.skipped.map((s) => s.name).join(", ")}`);
      }
      results.push({ result, warmup: isWarmup });
      progress({
        kind: "run-end",
        index: i,
        warmup: isWarmup,
        total,
        durationS: Number(result.durationNs) / 1e9,
        exitCode: result.exitCode,
      });
      if (cooldownS > 0 && i < total - 1) {
        progress({ kind: "phase", phase: "cooldown", seconds: cooldownS });
        await sleep(cooldownS * 1000, signal);
      }
    }
    if (options.postBaselineS !== undefined && options.postBaselineS > 0 && !signal?.aborted) {
      progress({ kind: "phase", phase: "post-baseline", seconds: options.postBaselineS });
      const p0 = nowNs();
      await sleep(options.postBaselineS * 1000, signal);
      postBaseline = { startNs: p0, endNs: nowNs() };
    }
    await sleep(TAIL_MS);
  } finally {
    clearInterval(drainTimer);
    backend.stop();
  }

  return summarise(options, backend, results, baseline, postBaseline, warnings);
}

function summarise(
  options: MeasureOptions,
  backend: EnergyBackend,
  results: ReadonlyArray<{ result: ChildResult; warmup: boolean }>,
  baseline: { startNs: bigint; endNs: bigint } | undefined,
  postBaseline: { startNs: bigint; endNs: bigint } | undefined,
  warnings: string[],
): MeasureSummary {
  const baselineW = baseline ? backend.baselineW(baseline.startNs, baseline.endNs) : {};
  if (baseline && postBaseline) {
    const postW = backend.baselineW(postBaseline.startNs, postBaseline.endNs);
    for (const { domain } of backend.domains) {
      const span = (b: typeof baseline, w: Record<string, number>) => ({
        domain,
        startNs: b.startNs,
        endNs: b.endNs,
        durationS: Number(b.endNs - b.startNs) / 1e9,
        energyJ: 0,
        powerW: w[domain] ?? 0,
      });
      const drift = baselineDrift(span(baseline, baselineW), span(postBaseline, postW));
      if (drift.warning) warnings.push(drift.warning.message);
    }
  }

  const runs: RunSummary[] = results.map(({ result, warmup }, index) => {
    const durationS = Number(result.durationNs) / 1e9;
    const energy = backend.runEnergy(result);
    const energyJ: Record<string, number> = {};
    const netJ: Record<string, number> = {};
    for (const [domain, e] of Object.entries(energy)) {
      energyJ[domain] = e.rawJ;
      netJ[domain] = e.rawJ - (baselineW[domain] ?? 0) * durationS;
      for (const w of e.warnings) warnings.push(`run ${index}: ${w}`);
    }
    const counters: Record<string, number> = {};
    for (const [name, reading] of Object.entries(result.counters)) {
      if (reading) counters[name] = scaledCount(reading);
    }
    if (result.exitCode !== 0) {
      warnings.push(
        `run ${index} ${result.signal ? `was ended by ${result.signal}` : `exited with ${result.exitCode}`}: its energy is kept but may not be comparable`,
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
    };
  });

  const measured = runs.filter((r) => !r.warmup);
  const domains: Record<string, DomainSummary> = {};
  for (const { domain, source } of backend.domains) {
    const raw = measured.map((r) => r.energy_j[domain] ?? Number.NaN).filter(Number.isFinite);
    const net = measured.map((r) => r.net_energy_j[domain] ?? Number.NaN).filter(Number.isFinite);
    if (raw.length === 0) continue;
    const r = summarize(raw);
    const n = summarize(net);
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
      update_period_ms: backend.updatePeriodMs(domain),
    };
    const periodMs = backend.updatePeriodMs(domain);
    const shortest = Math.min(...measured.map((m) => m.duration_s));
    if (periodMs !== null && shortest * 1000 < 5 * periodMs) {
      warnings.push(
        `${domain}: the shortest run (${(shortest * 1000).toFixed(2)} ms) lasts fewer than 5 sensor updates (${periodMs.toFixed(2)} ms each); repeat the work inside the command to measure it`,
      );
    }
  }

  const durations = measured.map((m) => m.duration_s);
  const d = durations.length > 0 ? summarize(durations) : undefined;
  const sampling = backend.sampling();
  const requested = (options.warmup ?? MEASURE_DEFAULTS.warmup) + (options.repeat ?? MEASURE_DEFAULTS.repeat);
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
    runs,
    interrupted: results.length < requested,
    warnings: [...warnings, ...backend.warnings()],
  };
}
