// The measured command: started by the addon so its start, end and counters share the sampler's
// clock, wrapped so that every failure arrives as a typed EmpError.
import { fromNative, native } from "../errors.js";
import {
  addon,
  type ChildExit,
  type Containment,
  type CounterReading,
  type NativeChild,
  type SkippedCounter,
  type SpawnOptions,
} from "../native.js";

export interface ChildResult extends ChildExit {
  /** endNs - startNs: the command's wall time on the sampler's clock. */
  durationNs: bigint;
  /** Counters that could not be attached, with the reason. */
  skipped: readonly SkippedCounter[];
}

/** A counter's value extrapolated over multiplexing (value * enabled / running); 0 if it never ran. */
export function scaledCount(reading: CounterReading): number {
  if (reading.runningNs === 0n) return 0;
  if (reading.runningNs >= reading.enabledNs) return Number(reading.value);
  return (Number(reading.value) * Number(reading.enabledNs)) / Number(reading.runningNs);
}

export class MeasuredChild {
  private exit?: Promise<ChildResult>;

  private constructor(private readonly handle: NativeChild) {}

  /** Starts the command; throws SpawnError when it cannot be started (not found, bad cwd). */
  static start(options: SpawnOptions): MeasuredChild {
    return new MeasuredChild(native(() => new addon.Child(options)));
  }

  get pid(): number {
    return this.handle.pid;
  }

  /** CLOCK_MONOTONIC ns just before exec. */
  get startNs(): bigint {
    return this.handle.startNs;
  }

  get skipped(): readonly SkippedCounter[] {
    return this.handle.skipped;
  }

  /** How the command's tree is held (a cgroup of emp's own, or a process group), and why. */
  get containment(): Containment {
    return this.handle.containment;
  }

  /** Resolves when the command exits; every call returns the same promise. */
  wait(): Promise<ChildResult> {
    this.exit ??= this.waitOnce();
    return this.exit;
  }

  /** Sends `signal` (default SIGTERM) to the command and its whole tree; false when none of it is left. */
  kill(signal?: NodeJS.Signals | number): boolean {
    return native(() => this.handle.kill(signal));
  }

  private async waitOnce(): Promise<ChildResult> {
    let exit: ChildExit;
    try {
      // A throw (wait already claimed) and a rejection (waitid failed) both land here.
      exit = await this.handle.wait();
    } catch (error) {
      throw fromNative(error);
    }
    return { ...exit, durationNs: exit.endNs - exit.startNs, skipped: this.handle.skipped };
  }
}

/** Starts a command and waits for it. */
export function runCommand(options: SpawnOptions): Promise<ChildResult> {
  return MeasuredChild.start(options).wait();
}
