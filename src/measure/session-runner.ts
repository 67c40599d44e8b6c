// One measurement session of one or more commands: one idle baseline for all, then their runs in
// the schedule's order (schedule.ts), each command's iteration count calibrated first where runs
// must last --min-run-ms, then the optional post-baseline. `emp measure` runs one command through
// it and `emp compare` several, so both measure a run the same way.
import { mkdtempSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EmpError, StageFailure } from "../errors.js";
import type { ContainmentMode, PerfEventName, StdioOption } from "../native.js";
import { runShell } from "../util/shell.js";
import { type EnergyBackend, unknownIdleWarnings } from "./backend.js";
import { calibrateIterations } from "./calibrate.js";
import { type MeasuredRun, Meter, type RunSpec, type Span } from "./meter.js";
import type { SessionRecorder } from "./recorder.js";
import { planSlots, type RunOrder } from "./schedule.js";
import { captureMetric, type MetricSpec } from "./work.js";

/** A command of the session: its name (as results label it) and what runs. */
export interface SessionCommand {
  name: string;
  file: string;
  args: string[];
  /** Run before each of its runs, unmeasured (`--prepare`); `sh -c`. */
  prepare?: string;
  /** Run once before the session's baseline, unmeasured (`--setup`). */
  setup?: string;
  /** Run once after the session (`--cleanup`), also when it failed or was interrupted. */
  cleanup?: string;
}

export interface SessionRunnerOptions {
  commands: readonly SessionCommand[];
  backend: EnergyBackend;
  repeat: number;
  warmup: number;
  baselineS: number;
  cooldownS: number;
  postBaselineS?: number;
  order: RunOrder;
  seed: number;
  /** Each run of a command lasts at least this long: shorter commands are iterated (calibrate.ts). */
  minRunMs?: number;
  counters: readonly PerfEventName[];
  waitDescendants?: boolean;
  containment?: ContainmentMode;
  commandStdout?: StdioOption;
  /** Where the output of --prepare, --setup and --cleanup goes (appended); default /dev/null. */
  shellLog?: string;
  /** Numbers captured from each run's output (--metric): the output is captured, then shown after the run. */
  metrics?: readonly MetricSpec[];
  signal?: AbortSignal;
  recorder?: SessionRecorder;
  onProgress?: (event: ProgressEvent) => void;
  /** Each run as it is recorded (runs.arrow's row). */
  onRun?: (run: SessionRun) => void;
}

export type ProgressEvent =
  | { kind: "phase"; phase: "baseline" | "post-baseline" | "cooldown" | "calibration"; seconds: number }
  /** `index` counts the session's runs from 0 (calibration and warmups included); `pid` is the command's. */
  | {
      kind: "run-start";
      index: number;
      warmup: boolean;
      calibration: boolean;
      total: number;
      pid: number;
      command: string;
    }
  | {
      kind: "run-end";
      index: number;
      warmup: boolean;
      calibration: boolean;
      total: number;
      durationS: number;
      exitCode: number | null;
      command: string;
    };

/** A run of the session: which command, and whether it calibrated the iteration count. */
export interface SessionRun extends MeasuredRun {
  command: number;
  /** A calibration run (--min-run-ms): unmeasured, like a warmup, and named apart. */
  calibration: boolean;
  /** Each --metric's value in the run's output; null where it was not found. */
  metrics: Record<string, number | null>;
}

export interface SessionResult {
  runs: SessionRun[];
  baseline: Span | undefined;
  baselineW: Record<string, number>;
  post: Span | undefined;
  /** Per command, the iterations of each of its runs (1 without --min-run-ms). */
  iterations: number[];
  /** Warmups and runs the schedule asked for (calibration runs apart): fewer were run when interrupted. */
  requested: number;
  warnings: string[];
}

/** Runs the session; the recorder is closed at the end, whatever happened. */
export async function runSession(options: SessionRunnerOptions): Promise<SessionResult> {
  const { backend, commands, signal, recorder } = options;
  const progress = options.onProgress ?? (() => {});
  const meter = new Meter(backend, {
    sink: recorder,
    counters: options.counters,
    signal,
    containment: options.containment,
  });
  const shellLog = options.shellLog ?? "/dev/null";
  const shell = async (command: string | undefined, step: string) => {
    if (command === undefined || signal?.aborted) return;
    try {
      await runShell(command, { cwd: process.cwd(), env: {}, logPath: shellLog, signal, step });
    } catch (error) {
      if (!(error instanceof StageFailure) || signal?.aborted) throw error;
      throw new EmpError("E_SPAWN", `${error.message}: \`${command}\``, {
        suggestion: `run it by hand to see why${shellLog === "/dev/null" ? "" : ` (its output is in ${shellLog})`}; the runs done are kept`,
      });
    }
  };
  const capture = (options.metrics ?? []).length > 0 ? OutputCapture.make(options.commandStdout) : undefined;
  const slots = planSlots(commands.length, options.warmup, options.repeat, options.order, options.seed);
  const iterations = commands.map(() => 1);
  const runs: SessionRun[] = [];
  const warnings: string[] = [];
  const total = () => runs.length + (slots.length - done);
  let done = 0;
  let baseline: Span | undefined;
  let post: Span | undefined;
  let baselineW: Record<string, number> = {};

  const measureOne = async (index: number, warmup: boolean, calibration: boolean, count: number) => {
    const command = commands[index] as SessionCommand;
    await meter.unmeasured(() => shell(command.prepare, `--prepare of ${command.name}`));
    if (signal?.aborted) return undefined;
    const spec: RunSpec = {
      file: command.file,
      args: command.args,
      iterations: count,
      waitDescendants: options.waitDescendants,
      stdout: capture?.path ?? options.commandStdout,
      ...(capture ? { stderr: capture.path } : {}),
      onStarted: ({ pid }) =>
        progress({
          kind: "run-start",
          index: runs.length,
          warmup,
          calibration,
          total: total(),
          pid,
          command: command.name,
        }),
    };
    const measured = await meter.measure(spec, warmup, baselineW);
    if (measured === undefined) return undefined; // cut short: not a measurement
    const output = capture?.take() ?? "";
    const metrics = Object.fromEntries(
      (options.metrics ?? []).map((m) => [m.name, captureMetric(m, output)]),
    );
    for (const [name, value] of Object.entries(metrics)) {
      if (value === null) measured.warnings.push(`--metric ${name}: not found in the run's output`);
    }
    const run: SessionRun = { ...measured, command: index, calibration, metrics };
    runs.push(run);
    options.onRun?.(run);
    progress({
      kind: "run-end",
      index: runs.length - 1,
      warmup,
      calibration,
      total: total(),
      durationS: run.durationS,
      exitCode: run.exitCode,
      command: command.name,
    });
    return run;
  };

  for (const command of commands) await shell(command.setup, `--setup of ${command.name}`);
  meter.start();
  try {
    progress({ kind: "phase", phase: "baseline", seconds: options.baselineS });
    baseline = await meter.idle(options.baselineS, "baseline");
    const idle = backend.idlePower(baseline.startNs, baseline.endNs);
    baselineW = idle.powerW;
    warnings.push(...unknownIdleWarnings("baseline", idle));

    const minRunMs = options.minRunMs;
    if (minRunMs !== undefined) {
      for (let index = 0; index < commands.length && !signal?.aborted; index++) {
        progress({ kind: "phase", phase: "calibration", seconds: 0 });
        const found = await calibrateIterations(minRunMs, (count) => measureOne(index, true, true, count));
        if (found === undefined) break;
        iterations[index] = found.iterations;
      }
    }

    for (const slot of slots) {
      if (signal?.aborted) break;
      const run = await measureOne(slot.command, slot.warmup, false, iterations[slot.command] ?? 1);
      if (run === undefined) break;
      done++;
      if (options.cooldownS > 0 && done < slots.length) {
        progress({ kind: "phase", phase: "cooldown", seconds: options.cooldownS });
        await meter.cooldown(options.cooldownS);
      }
    }
    if (options.postBaselineS !== undefined && options.postBaselineS > 0 && !signal?.aborted) {
      progress({ kind: "phase", phase: "post-baseline", seconds: options.postBaselineS });
      post = await meter.idle(options.postBaselineS, "post-baseline");
    }
  } finally {
    meter.stop();
    recorder?.close();
    capture?.remove();
    // Cleanups run whatever happened: they undo what the setups did.
    for (const command of commands) {
      if (command.cleanup === undefined) continue;
      await runShell(command.cleanup, {
        cwd: process.cwd(),
        env: {},
        logPath: shellLog,
        step: `--cleanup of ${command.name}`,
      }).catch((error: Error) => warnings.push(`${error.message}: \`${command.cleanup}\``));
    }
  }
  warnings.push(...meter.warnings);
  return { runs, baseline, baselineW, post, iterations, requested: slots.length, warnings };
}

/**
 * A run's output (stdout and stderr together), captured to a file so --metric can read it, then
 * passed on to where it would have gone: emp's stdout, or its stderr where stdout carries JSON.
 */
class OutputCapture {
  private constructor(
    private readonly dir: string,
    readonly path: string,
    private readonly fd: number | null,
  ) {}

  static make(destination: StdioOption | undefined): OutputCapture {
    const dir = mkdtempSync(join(tmpdir(), "emp-output-"));
    const fd = destination === "ignore" ? null : destination === "stderr" ? 2 : 1;
    return new OutputCapture(dir, join(dir, "run.log"), fd);
  }

  /** The last run's output, shown where it belongs. */
  take(): string {
    let output: string;
    try {
      output = readFileSync(this.path, "utf8");
    } catch {
      return ""; // the run printed nothing, or never started
    }
    if (this.fd !== null && output !== "") writeSync(this.fd, output);
    return output;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
