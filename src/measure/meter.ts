// The measuring instrument of a session: keeps the backend sampling and drained, samples the idle
// machine, and runs a command with its boundaries on the sampler's clock, returning its energy per
// domain with the baseline subtracted. `emp measure` and `emp run` both measure through it.
import { isatty } from "node:tty";
import { type RunDomainEnergy, runDomainEnergy } from "../energy/baseline.js";
import type { Containment, ContainmentMode, PerfEventName, SpawnOptions } from "../native.js";
import type { RunEnergyJ } from "../results/runs-writer.js";
import type { Phase } from "../results/samples-writer.js";
import { type ChildResult, MeasuredChild, scaledCount } from "../sampling/child.js";
import { nowNs, type TickBatch } from "../sampling/sampler.js";
import { sleep } from "../util/sleep.js";
import type { EnergyBackend, RunSpan } from "./backend.js";
import { iterated } from "./calibrate.js";

/** Where drained samples go (samples.arrow in a session directory). */
export interface SampleSink {
  append(batch: TickBatch, phase: Phase, run: number | null): void;
  /** Makes the samples so far durable. */
  commit(): void;
}

export interface Span {
  startNs: bigint;
  endNs: bigint;
}

/** The command of one run, and how long it may take. */
export interface RunSpec extends Pick<SpawnOptions, "file" | "args" | "env" | "cwd" | "stdout" | "stderr"> {
  /** Past this the command's whole tree is sent SIGTERM, then SIGKILL after a grace period. */
  timeoutS?: number;
  /** Runs the command this many times back to back inside the one measured run (default 1). */
  iterations?: number;
  /**
   * The run lasts until every process the command started has ended; by default it ends when the
   * command exits, and descendants still running then are ended and counted in a warning.
   */
  waitDescendants?: boolean;
  /** Called once the command has started: its pid (also its process group's id) and how its tree
   * is held (a progress display watches the pid; emp run records where its processes are). */
  onStarted?: (child: { pid: number; containment: Containment }) => void;
}

/** One finished run: its boundaries, exit, energy per domain (raw, baseline share, net) and counters. */
export interface MeasuredRun {
  /** The run's number in this session's samples (the `run` column of samples.arrow). */
  ordinal: number;
  warmup: boolean;
  /** Times the command ran back to back in this run (--min-run-ms); its energy and duration are of all of them. */
  iterations: number;
  startNs: bigint;
  endNs: bigint;
  durationS: number;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Net above the baseline per domain; raw only (net null) where the baseline is unknown. */
  energy: Record<string, RunDomainEnergy>;
  /** perf counters, scaled over multiplexing. */
  counters: Record<string, number>;
  /** Per domain, the times its sensor's value changed within the run (none for an estimate). */
  updates: Record<string, number>;
  /** CPU time of the whole tree from its cgroup (every process, daemons included), ns; absent in a process group. */
  treeCpuNs?: number;
  /** Descendants still alive when the command exited (ended by emp, or waited for). */
  descendants: number;
  /** How the run's process tree was held. */
  containment: Containment;
  warnings: string[];
}

/** Least time kept sampling after a run (or baseline) ends, so its end lies between two fresh readings. */
const TAIL_MS = 20;

/** Time between drains: far below the time the ring takes to fill at any supported rate. */
const DRAIN_INTERVAL_MS = 50;

/** After SIGTERM (a timeout, an abort, descendants left running), how long a tree gets before SIGKILL. */
const KILL_GRACE_MS = 2000;

export class Meter {
  private phase: Phase = "baseline";
  private run: number | null = null;
  private drainTimer: NodeJS.Timeout | undefined;
  private nextOrdinal = 0;
  private skippedReported = false;
  /** Set when the sink could not take the samples (a full disk): ends the run in progress. */
  private readonly sinkFailed = new AbortController();
  /** Warnings about the session rather than one run (counters this machine cannot count). */
  readonly warnings: string[] = [];

  constructor(
    readonly backend: EnergyBackend,
    private readonly options: {
      sink?: SampleSink;
      counters: readonly PerfEventName[];
      signal?: AbortSignal;
      /** How each run's tree is held (default "auto": a cgroup where emp can make one). */
      containment?: ContainmentMode;
    },
  ) {}

  /** The error the sink threw (a WriteError), after which nothing more is measured. */
  get failure(): unknown {
    return this.sinkFailed.signal.reason;
  }

  start(): void {
    this.backend.start();
    this.drainTimer = setInterval(() => this.drain(), DRAIN_INTERVAL_MS);
  }

  /** Stops sampling and takes in the last ticks; safe to call twice. */
  stop(): void {
    if (this.drainTimer === undefined) return;
    clearInterval(this.drainTimer);
    this.drainTimer = undefined;
    this.backend.stop();
    this.drain();
  }

  /** Samples the idle machine for `seconds` (less when aborted); returns the span sampled. */
  async idle(seconds: number, phase: "baseline" | "post-baseline"): Promise<Span> {
    this.throwIfFailed();
    this.drain();
    this.phase = phase;
    this.run = null;
    const startNs = nowNs();
    const signals = [this.sinkFailed.signal, ...(this.options.signal ? [this.options.signal] : [])];
    await sleep(seconds * 1000, AbortSignal.any(signals));
    this.throwIfFailed();
    const span = { startNs, endNs: nowNs() };
    await this.settle();
    this.commitSink();
    return span;
  }

  /** Leaves the machine idle for `seconds` between runs (less when aborted): the cooldown phase. */
  async cooldown(seconds: number): Promise<void> {
    if (seconds <= 0) return;
    this.drain();
    this.phase = "cooldown";
    this.run = null;
    await sleep(seconds * 1000, this.options.signal);
    this.drain();
    this.phase = "between";
  }

  /** Runs `work` (a --prepare command) outside any phase that is measured. */
  async unmeasured(work: () => Promise<void>): Promise<void> {
    this.drain();
    this.phase = "between";
    this.run = null;
    await work();
  }

  /**
   * Runs the command once and returns its energy with `baselineW` subtracted; undefined when the
   * session was aborted during the run (a run cut short is not a measurement).
   */
  async measure(
    spec: RunSpec,
    warmup: boolean,
    baselineW: Record<string, number>,
  ): Promise<MeasuredRun | undefined> {
    const signal = this.options.signal;
    this.throwIfFailed();
    if (signal?.aborted) return undefined;
    const ordinal = this.nextOrdinal++;
    this.drain();
    this.phase = warmup ? "warmup" : "run";
    this.run = ordinal;
    this.backend.runStarting?.();
    const iterations = spec.iterations ?? 1;
    const command = iterated(spec.file, spec.args ?? [], iterations);
    const child = MeasuredChild.start({
      file: command.file,
      args: command.args,
      env: spec.env,
      cwd: spec.cwd,
      // A command in a process group of its own is stopped (SIGTTIN) if it reads the terminal.
      // isatty, not process.stdin: making that stream would set a piped stdin non-blocking, and
      // the command, sharing the open file, would read EAGAIN.
      stdin: isatty(0) ? "ignore" : "inherit",
      stdout: spec.stdout,
      stderr: spec.stderr,
      counters: [...this.options.counters],
      containment: this.options.containment,
      waitDescendants: spec.waitDescendants,
      killGraceMs: KILL_GRACE_MS,
    });
    spec.onStarted?.({ pid: child.pid, containment: child.containment });
    let killTimer: NodeJS.Timeout | undefined;
    const end = () => {
      child.kill("SIGTERM");
      killTimer ??= setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS);
    };
    signal?.addEventListener("abort", end, { once: true });
    this.sinkFailed.signal.addEventListener("abort", end, { once: true });
    let timedOut = false;
    const timeout =
      spec.timeoutS === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            end();
          }, spec.timeoutS * 1000);
    let result: ChildResult;
    try {
      result = await child.wait();
    } finally {
      clearTimeout(timeout);
      clearTimeout(killTimer);
      signal?.removeEventListener("abort", end);
      this.sinkFailed.signal.removeEventListener("abort", end);
    }
    this.throwIfFailed();
    if (signal?.aborted) {
      this.phase = "between";
      this.run = null;
      return undefined;
    }
    this.drain();
    // The settling tail after the run and what emp does before the next one are not the run.
    this.phase = "between";
    this.run = null;
    await this.settle();
    this.commitSink();
    if (!this.skippedReported && result.skipped.length > 0) {
      this.skippedReported = true;
      this.warnings.push(`counters not available here: ${result.skipped.map((s) => s.name).join(", ")}`);
    }
    const run = this.measured(ordinal, warmup, result, baselineW, timedOut, spec, child.containment);
    // Every span the session asks about from now on begins after this run.
    this.backend.discardBefore?.(result.endNs);
    return run;
  }

  private measured(
    ordinal: number,
    warmup: boolean,
    result: ChildResult,
    baselineW: Record<string, number>,
    timedOut: boolean,
    spec: RunSpec,
    containment: Containment,
  ): MeasuredRun {
    const durationS = Number(result.durationNs) / 1e9;
    const { energy, updates, warnings } = this.spanEnergy(result, baselineW);
    const counters: Record<string, number> = {};
    for (const [name, reading] of Object.entries(result.counters)) {
      if (reading) counters[name] = scaledCount(reading);
    }
    warnings.push(...treeWarnings(result, spec, containment, timedOut));
    if (timedOut) {
      warnings.push(
        `timed out after ${spec.timeoutS} s and was killed: its energy is kept but is not the whole run`,
      );
    } else if (result.exitCode !== 0) {
      // A failed run's energy is not the energy of the command's work: the statistics leave it out.
      warnings.push(
        `${result.signal ? `ended by ${result.signal}` : `exited with ${result.exitCode}`}: a failed run, kept in runs.arrow`,
      );
    }
    return {
      ordinal,
      warmup,
      iterations: spec.iterations ?? 1,
      startNs: result.startNs,
      endNs: result.endNs,
      durationS,
      exitCode: result.exitCode,
      signal: result.signal,
      timedOut,
      energy,
      counters,
      updates,
      ...(result.treeCpuNs === null ? {} : { treeCpuNs: Number(result.treeCpuNs) }),
      descendants: result.descendants,
      containment,
      warnings,
    };
  }

  /** A span's energy per domain with the baseline subtracted, the sensor's changes within it, and its warnings. */
  private spanEnergy(
    span: RunSpan,
    baselineW: Record<string, number>,
  ): { energy: Record<string, RunDomainEnergy>; updates: Record<string, number>; warnings: string[] } {
    const durationS = Number(span.durationNs) / 1e9;
    const energy: Record<string, RunDomainEnergy> = {};
    const updates: Record<string, number> = {};
    const warnings: string[] = [];
    for (const [domain, e] of Object.entries(this.backend.runEnergy(span))) {
      energy[domain] = runDomainEnergy(domain, e.rawJ, durationS, baselineW[domain]);
      if (e.updates !== undefined) updates[domain] = e.updates;
      warnings.push(...e.warnings);
      if (energy[domain].netJ === null && Number.isFinite(e.rawJ)) {
        warnings.push(`${domain}: raw energy only: the idle baseline's power is unknown, so no net energy`);
      }
    }
    return { energy, updates, warnings };
  }

  /**
   * Calls `fn` `iterations` times back to back in this process, awaiting it where it returns a
   * promise, as one measured run between two readings of the sampler's clock (measureFunction). Its
   * CPU time is the process's (the estimate's input). An exception from `fn` ends the session.
   */
  async measureCalls(
    fn: () => unknown,
    iterations: number,
    warmup: boolean,
    baselineW: Record<string, number>,
  ): Promise<MeasuredRun | undefined> {
    this.throwIfFailed();
    if (this.options.signal?.aborted) return undefined;
    const ordinal = this.nextOrdinal++;
    this.drain();
    this.phase = warmup ? "warmup" : "run";
    this.run = ordinal;
    this.backend.runStarting?.();
    const cpu = process.cpuUsage();
    const startNs = nowNs();
    let endNs: bigint;
    let used: NodeJS.CpuUsage;
    try {
      for (let i = 0; i < iterations; i++) {
        const result = fn();
        if (result instanceof Promise) await result;
      }
      endNs = nowNs();
      used = process.cpuUsage(cpu);
    } finally {
      this.drain();
      this.phase = "between";
      this.run = null;
    }
    await this.settle();
    this.commitSink();
    const treeCpuNs = BigInt(used.user + used.system) * 1000n;
    const span: RunSpan = { startNs, endNs, durationNs: endNs - startNs, counters: {}, treeCpuNs };
    const { energy, updates, warnings } = this.spanEnergy(span, baselineW);
    this.backend.discardBefore?.(endNs);
    return {
      ordinal,
      warmup,
      iterations,
      startNs,
      endNs,
      durationS: Number(span.durationNs) / 1e9,
      exitCode: 0,
      signal: null,
      timedOut: false,
      energy,
      counters: {},
      updates,
      treeCpuNs: Number(treeCpuNs),
      descendants: 0,
      containment: { kind: "process-group", reason: "in-process: a function, not a command" },
      warnings,
    };
  }

  private drain(): void {
    const batch = this.backend.drain();
    if (batch === undefined || this.sinkFailed.signal.aborted) return;
    try {
      this.options.sink?.append(batch, this.phase, this.run);
    } catch (error) {
      // Drains run from a timer too: the failure is kept, ends the run, and is thrown by the
      // measurement it interrupted (or the next one).
      this.sinkFailed.abort(error);
    }
  }

  private commitSink(): void {
    try {
      this.options.sink?.commit();
    } catch (error) {
      this.sinkFailed.abort(error);
    }
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.sinkFailed.signal.aborted) throw this.sinkFailed.signal.reason;
  }

  /** Samples a little past now so the span just ended lies between two fresh readings, then drains. */
  private async settle(): Promise<void> {
    const periodMs = Math.max(
      0,
      ...this.backend.domains.map((d) => this.backend.updatePeriodMs(d.domain) ?? 0),
    );
    await sleep(Math.max(TAIL_MS, 3 * periodMs));
    this.drain();
  }
}

/** What a run's process tree did that a reader of its energy should know. */
function treeWarnings(
  result: ChildResult,
  spec: RunSpec,
  containment: Containment,
  timedOut: boolean,
): string[] {
  const out: string[] = [];
  const n = result.descendants;
  const processes = `${n} descendant process${n === 1 ? "" : "es"}`;
  // A timed-out run's tree was ended on purpose, all at once: its timeout warning says so.
  if (n > 0 && !spec.waitDescendants && !timedOut) {
    out.push(
      `${processes} still running when the command exited ${n === 1 ? "was" : "were"} ended (SIGTERM, and SIGKILL ${KILL_GRACE_MS / 1000} s later if still alive); ` +
        "the run ends at the command's exit: pass --wait-descendants (study key wait_descendants) to measure until the last one ends",
    );
  }
  if (result.treeLeft) {
    out.push(
      `some of the command's processes outlived SIGKILL (stuck in the kernel) and may still run${containment.path ? ` in ${containment.path}` : ""}`,
    );
  }
  return out;
}

/** The metrics of a run beside its energy, as runs.arrow names them: perf counters and the tree's CPU time. */
export function runMetrics(run: MeasuredRun): Record<string, number> {
  return run.treeCpuNs === undefined ? run.counters : { ...run.counters, [TREE_CPU_METRIC]: run.treeCpuNs };
}

/** The cgroup's CPU time of a run's whole tree, beside the perf counters in runs.arrow. */
export const TREE_CPU_METRIC = "tree-cpu-time";

/** A run's energy as runs.arrow stores it. */
export function runEnergyJ(run: MeasuredRun): Record<string, RunEnergyJ> {
  const out: Record<string, RunEnergyJ> = {};
  for (const [domain, e] of Object.entries(run.energy))
    out[domain] = { rawJ: e.rawJ, baselineJ: e.baselineJ, netJ: e.netJ };
  return out;
}
