// The one place that loads the C++ addon, and the typed declaration of everything it exports.
// The rest of emp imports `addon` from here and never touches the binary itself. The binary is
// loaded on the first use of `addon`, not at import: so `emp --help`, `emp report`, `emp plot` and
// `emp history` start without it, and work where it cannot load (results copied to another machine).
import { createRequire } from "node:module";
import { AddonError } from "./errors.js";

export type SourceKind = "powercap" | "msr" | "perf-power" | "perf" | "nvml" | "thermal";
export type SensorStatus = "available" | "permission-denied" | "absent" | "unsupported";

/** What the caller asks a source for. */
export interface SourceSpec {
  kind: SourceKind;
  /** Read rate in Hz; 0 or absent: the sampler's rate, capped at the source's own maximum. */
  hz?: number;
  /** Channel names (or perf event names) to include; absent: every channel. */
  select?: string[];
  /** perf counters only: the process to count (with its children); absent: system-wide. */
  pid?: number;
}

/** One value a source writes per read, described once. `raw * scale` is in SI units. */
export interface ChannelInfo {
  name: string;
  domain: string;
  quantity: "energy" | "power" | "temperature" | "time" | "count";
  /** Unit of the raw value ("uJ", "esu", "mJ", "mW", "mC", "C" for NVML's whole degrees, "ns", "count"). */
  unit: string;
  /** raw * scale = joules, watts, degrees C, seconds or counts. */
  scale: number;
  /** Modulus of a wrapping counter in raw units; 0 when it never wraps. */
  wrap: number;
  /** True for accumulating counters (use differences), false for gauges. */
  counter: boolean;
  /** Raw bits hold an int64 (temperatures below zero). */
  signed: boolean;
  /** The file, register or call the value comes from. */
  origin: string;
}

export interface SamplerChannelInfo extends ChannelInfo {
  source: SourceKind;
  sourceIndex: number;
  /** The source is read every `everyTicks` ticks, that is at `hz`. */
  everyTicks: number;
  hz: number;
}

export interface SensorReport {
  kind: SourceKind;
  status: SensorStatus;
  reason: string;
  fix: string;
  channels: ChannelInfo[];
  details: Record<string, string>;
}

export interface SamplerOptions {
  sampleHz: number;
  /** Ring capacity in ticks, rounded up to a power of two (default 65536). */
  ringTicks?: number;
  /**
   * Most ns spun before a deadline (default 50000). The thread sleeps until a margin before each
   * deadline and spins the rest; the margin follows the low quartile of the wake-up latency seen.
   */
  spinNs?: number;
  sources: SourceSpec[];
}

/** One drain of the ring: parallel arrays, `values` column-major (channel c at [c*ticks, (c+1)*ticks)). */
export interface DrainResult {
  ticks: number;
  channels: number;
  tNs: BigInt64Array;
  /** Start of the tick minus its deadline; saturates at 2^31 - 1 ns (2.1 s). */
  latenessNs: Int32Array;
  /** Time spent reading the due sources; saturates like latenessNs. */
  readNs: Int32Array;
  /**
   * Bit i: source i was read successfully in this tick. As wide as the sampler's source count
   * needs: 8 bits up to 8 sources, 16 up to 16, else 32.
   */
  readMask: Uint8Array | Uint16Array | Uint32Array;
  values: BigUint64Array;
}

export interface SamplerStats {
  /** Ticks the thread ran: pushed to the ring plus dropped. */
  ticks: number;
  /** Ticks lost because the ring was full (the newest are dropped). */
  dropped: number;
  /** Deadlines skipped because the thread ran more than one period late. */
  missed: number;
  /** How long before a deadline the thread now asks to be woken (its learned wake-up latency). */
  wakeMarginNs: number;
  /**
   * Sources that block (NVML, thermal) are read on their own thread and their readings stamped with
   * the tick that took them: the most such a stamp came after its read began, 0 when none did.
   */
  slowLagMaxNs: number;
  /** Ticks in the ring not yet drained. */
  pending: number;
  ringTicks: number;
  periodNs: number;
  startedNs: bigint;
  /** Failed reads per source. */
  readErrors: number[];
}

export interface NativeSampler {
  channels(): SamplerChannelInfo[];
  /** Starts the thread; returns the CLOCK_MONOTONIC ns of the first tick. */
  start(): bigint;
  /** Stops and joins the thread; idempotent. */
  stop(): void;
  /**
   * Moves up to maxTicks ticks out of the ring into one buffer holding every column, 8-byte
   * columns first: tNs int64[n], values uint64[channels*n] (column-major), latenessNs int32[n],
   * readNs int32[n], readMask uint8/16/32[n] (1 byte up to 8 sources, 2 up to 16, else 4).
   */
  drain(maxTicks?: number): ArrayBuffer;
  stats(): SamplerStats;
  state(): "idle" | "running" | "stopped";
}

/** The perf_event_open events emp knows; hardware ones need a PMU (absent in most VMs). */
export type PerfEventName =
  | "cycles"
  | "instructions"
  | "cache-misses"
  | "branch-misses"
  | "task-clock"
  | "cpu-clock"
  | "context-switches"
  | "page-faults"
  | "cpu-migrations";

// Keyed by every PerfEventName, so that the compiler flags an event added to the addon but not here.
const PERF_EVENT_SET: Record<PerfEventName, true> = {
  cycles: true,
  instructions: true,
  "cache-misses": true,
  "branch-misses": true,
  "task-clock": true,
  "cpu-clock": true,
  "context-switches": true,
  "page-faults": true,
  "cpu-migrations": true,
};
/** Every perf event a run can count, as `--counters` and a study's `counters` name them. */
export const PERF_EVENTS = Object.keys(PERF_EVENT_SET) as PerfEventName[];

/**
 * Where a stream of the measured command goes: emp's own, /dev/null, a file (truncated), or for
 * stdout only "stderr": emp's stderr, so that emp's stdout carries nothing but its own output.
 */
export type StdioOption = "inherit" | "ignore" | "stderr" | (string & {});

export interface SpawnOptions {
  /** A command name looked up in PATH (the child's PATH when `env` is given), or a path. */
  file: string;
  /** Arguments after argv[0], which is `file` as given. */
  args?: string[];
  /** The whole environment of the command, or "inherit" (default) for emp's own. */
  env?: Record<string, string> | "inherit";
  /** Working directory; default emp's. */
  cwd?: string;
  stdin?: StdioOption;
  stdout?: StdioOption;
  /** A path equal to stdout's shares its open file, so the two interleave. */
  stderr?: StdioOption;
  /**
   * perf events counted for the command and its descendants, enabled at exec. Events this
   * machine cannot count are left out and listed in `skipped`; a permission problem throws.
   */
  counters?: PerfEventName[];
  /**
   * How the command's process tree is held: a cgroup of emp's own where one can be made, else a
   * process group ("auto", the default); "cgroup" throws E_UNSUPPORTED where none can be made.
   */
  containment?: ContainmentMode;
  /** The run ends when every descendant has ended, not when the command itself exits. */
  waitDescendants?: boolean;
  /** Descendants alive when the command exits get SIGTERM, then SIGKILL after this (default 2000). */
  killGraceMs?: number;
}

export type ContainmentMode = "auto" | "cgroup" | "process-group";

/** How one command's tree was held, and why not in a cgroup when it was not. */
export interface Containment {
  kind: "cgroup" | "process-group";
  /** The cgroup emp made for it (removed when the run ends). */
  path?: string;
  reason?: string;
}

/**
 * What containment this machine allows emp: where its cgroups would go, or why none. `orphansEnded`:
 * processes found running in the cgroups of an emp that was killed outright, and ended.
 */
export type ContainmentSupport =
  | { kind: "cgroup"; parent: string; orphansEnded?: number }
  | { kind: "process-group"; reason: string };

/** A counter the command runs without, and why. */
export interface SkippedCounter {
  name: PerfEventName;
  code: "E_UNSUPPORTED";
  reason: string;
}

/**
 * A counter's final value as the kernel reports it. `value` is raw: when the PMU multiplexed the
 * counter (`runningNs < enabledNs`) it covers only `runningNs`; scale by enabledNs / runningNs
 * for an estimate of the whole run. Software events never multiplex.
 */
export interface CounterReading {
  value: bigint;
  enabledNs: bigint;
  runningNs: bigint;
}

export interface ChildExit {
  /** Exit status; null when a signal ended the command. */
  exitCode: number | null;
  /** The signal that ended it ("SIGTERM"), or null when it exited. */
  signal: NodeJS.Signals | null;
  /** CLOCK_MONOTONIC ns just before execve, the clock of the samples. */
  startNs: bigint;
  /** CLOCK_MONOTONIC ns when waitid returned; with waitDescendants, when the last descendant ended. */
  endNs: bigint;
  /** Descendants still alive when the command exited: ended by emp, or waited for. */
  descendants: number;
  /** Some descendants outlived SIGKILL's wait (stuck in the kernel). */
  treeLeft: boolean;
  /** CPU time of the whole tree from its cgroup's cpu.stat; null in a process group. */
  treeCpuNs: bigint | null;
  counters: Partial<Record<PerfEventName, CounterReading>>;
}

export interface NativeChild {
  readonly pid: number;
  /** CLOCK_MONOTONIC ns just before execve. */
  readonly startNs: bigint;
  readonly skipped: SkippedCounter[];
  readonly containment: Containment;
  /** Resolves when the command exits (the wait runs off the JS thread). Once per child. */
  wait(): Promise<ChildExit>;
  /** Signals the command (through its pidfd) and its whole tree (default SIGTERM); false when none is left. */
  kill(signal?: NodeJS.Signals | number): boolean;
}

export interface NativeAddon {
  Sampler: new (options: SamplerOptions) => NativeSampler;
  /**
   * Starts a command with its counters attached before exec; throws E_SPAWN when it cannot be
   * started. A child still running when its JS object is collected or the environment ends is killed.
   */
  Child: new (
    options: SpawnOptions,
  ) => NativeChild;
  /** Every source kind's verdict on this machine, or only those named. */
  probe(kinds?: SourceKind[]): SensorReport[];
  /** CLOCK_MONOTONIC in ns: the clock of every sample and child timestamp. */
  now(): bigint;
  sourceKinds(): SourceKind[];
  /** What TypeScript copies of the addon, for the test that keeps the copies in step. */
  contracts(): NativeContracts;
  containment(): ContainmentSupport;
}

function load(): NativeAddon {
  const require = createRequire(import.meta.url);
  try {
    return require("../build/Release/emp.node") as NativeAddon;
  } catch (error) {
    throw addonLoadError(error, process.platform);
  }
}

/** Why the addon could not load, and the fix: on Linux a build; elsewhere, that measuring needs Linux. */
export function addonLoadError(error: unknown, platform: string): AddonError {
  const why = (error as Error).message;
  if (platform !== "linux") {
    return new AddonError(
      "E_ADDON",
      `measuring needs Linux: the emp native addon is not built on ${platform}`,
      {
        suggestion:
          "measure on Linux (emp probe, measure, compare, run); emp report, emp plot and emp history work here on results copied from there",
        cause: error,
      },
    );
  }
  return new AddonError("E_ADDON", `the emp native addon could not be loaded: ${why}`, {
    suggestion: "run `npm install` (or `npm rebuild emp`) so node-gyp builds it for this Node version",
    cause: error,
  });
}

/** The addon's own lists and layouts that TypeScript mirrors (test/contracts.test.ts compares them). */
export interface NativeContracts {
  /** perf events by the names the counters take, as native/perf_event.cc knows them. */
  perfEvents: string[];
  /** Error codes the addon raises. */
  errorCodes: string[];
  /** The drain buffer's column widths in bytes, and the read mask's width for 0..32 sources. */
  drain: {
    timeBytes: number;
    valueBytes: number;
    latenessBytes: number;
    readBytes: number;
    readMaskBytes: number[];
  };
}

let loaded: NativeAddon | undefined;

/**
 * The addon, loaded on first use: every property read goes to the binary, which is loaded (once)
 * by the first; a binary that cannot load throws AddonError there, naming the fix.
 */
export const addon: NativeAddon = new Proxy({} as NativeAddon, {
  get(_target, key) {
    loaded ??= load();
    return Reflect.get(loaded, key);
  },
});
