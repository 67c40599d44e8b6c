// `measureFunction(fn, options)`: energy per call of a JavaScript function, for a TypeScript or
// JavaScript user who microbenchmarks in-process. The same session as emp measure (idle baseline,
// calibration, warmups, runs, statistics), but each run calls `fn` back to back between two readings
// of the sampler's clock instead of starting a command: a call is far shorter than a sensor update,
// so calls are iterated until a run lasts `minTimeMs`, as pyperf and Google Benchmark loop theirs.
import type { EnergyBackend } from "./backend.js";
import { calibrateIterations } from "./calibrate.js";
import { Meter, type Span } from "./meter.js";
import { chooseBackend, MEASURE_DEFAULTS, sessionWarnings, summariseSession } from "./session.js";
import type { SessionResult, SessionRun } from "./session-runner.js";
import type { MeasureSummary } from "./summary.js";

export interface MeasureFunctionOptions {
  /** Each run lasts at least this long, ms: calls are iterated to reach it (default 100, pyperf's). */
  minTimeMs?: number;
  repeat?: number;
  warmup?: number;
  baselineS?: number;
  sampleHz?: number;
  sources?: string[];
  tdpW?: number;
  /** What the summary calls the function (default its name). */
  name?: string;
  label?: string;
  signal?: AbortSignal;
  backend?: EnergyBackend;
}

export const FUNCTION_DEFAULTS = { minTimeMs: 100, repeat: 10, warmup: 1 } as const;

/**
 * Measures `fn` (sync or async): the summary's `domains` and `duration` are per call, with
 * `iterations` calls per run. A sync `fn` blocks the event loop for a whole run, so nothing drains the
 * sampler's ring meanwhile: it holds 65536 ticks (65 s at 1 kHz), and ticks past that are counted as
 * dropped and interpolated across. An exception thrown by `fn` ends the measurement and is rethrown.
 */
export async function measureFunction(
  fn: () => unknown,
  options: MeasureFunctionOptions = {},
): Promise<MeasureSummary> {
  const backend = options.backend ?? chooseBackend(options);
  const meter = new Meter(backend, { counters: [], signal: options.signal });
  const minTimeMs = options.minTimeMs ?? FUNCTION_DEFAULTS.minTimeMs;
  const warmup = options.warmup ?? FUNCTION_DEFAULTS.warmup;
  const repeat = options.repeat ?? FUNCTION_DEFAULTS.repeat;
  const runs: SessionRun[] = [];
  let baseline: Span | undefined;
  let baselineW: Record<string, number> = {};
  let iterations = 1;
  const call = async (count: number, warmupRun: boolean, calibration: boolean) => {
    const run = await meter.measureCalls(fn, count, warmupRun, baselineW);
    if (run !== undefined) runs.push({ ...run, command: 0, calibration, metrics: {} });
    return run;
  };
  meter.start();
  try {
    baseline = await meter.idle(options.baselineS ?? MEASURE_DEFAULTS.baselineS, "baseline");
    baselineW = backend.idlePower(baseline.startNs, baseline.endNs).powerW;
    const found = await calibrateIterations(minTimeMs, (count) => call(count, true, true));
    iterations = found?.iterations ?? 1;
    for (let i = 0; i < warmup + repeat; i++) {
      if ((await call(iterations, i < warmup, false)) === undefined) break;
    }
  } finally {
    meter.stop();
  }
  const result: SessionResult = {
    runs,
    baseline,
    baselineW,
    post: undefined,
    iterations: [iterations],
    requested: warmup + repeat,
    warnings: [...meter.warnings],
  };
  const name = options.name ?? (fn.name || "function");
  return summariseSession({ command: [name], label: options.label, minRunMs: minTimeMs }, backend, result, [
    ...result.warnings,
    ...sessionWarnings(backend, result),
  ]);
}
