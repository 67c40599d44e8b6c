// A measurement session's sampler: the native thread, its channels, and timestamped markers.
import { native } from "../errors.js";
import {
  addon,
  type DrainResult,
  type NativeSampler,
  type SamplerChannelInfo,
  type SamplerOptions,
  type SamplerStats,
} from "../native.js";

/** A label placed on the sampler's clock by a library user (`mark("phase 2")`). */
export interface Marker {
  label: string;
  tNs: bigint;
}

/** One drain of the ring with typed access to each channel's series. */
export class TickBatch {
  constructor(readonly raw: DrainResult) {}

  get ticks(): number {
    return this.raw.ticks;
  }

  /** Raw values of channel `c`, a view (no copy) into the drained buffer. */
  rawChannel(c: number): BigUint64Array {
    return this.raw.values.subarray(c * this.raw.ticks, (c + 1) * this.raw.ticks);
  }

  /** Raw values of channel `c` as numbers (exact below 2^53); `signed` reinterprets the bits as int64. */
  channelNumbers(c: number, signed = false): Float64Array {
    const series = this.rawChannel(c);
    const view = signed ? new BigInt64Array(series.buffer, series.byteOffset, series.length) : series;
    const out = new Float64Array(series.length);
    for (let i = 0; i < series.length; i++) out[i] = Number(view[i]);
    return out;
  }

  /** True where source `sourceIndex` was read (and succeeded) in tick `i`. */
  wasRead(i: number, sourceIndex: number): boolean {
    return ((this.raw.readMask[i] ?? 0) & (1 << sourceIndex)) !== 0;
  }
}

export class Sampler {
  readonly channels: readonly SamplerChannelInfo[];
  readonly sampleHz: number;
  private readonly handle: NativeSampler;
  private readonly markers: Marker[] = [];

  constructor(options: SamplerOptions) {
    this.handle = native(() => new addon.Sampler(options));
    this.channels = this.handle.channels();
    this.sampleHz = options.sampleHz;
  }

  /** Starts the sampling thread; returns the monotonic time (ns) of its first tick. */
  start(): bigint {
    return native(() => this.handle.start());
  }

  /** Stops and joins the thread. Ticks already in the ring stay there for drain(). */
  stop(): void {
    this.handle.stop();
  }

  get state(): "idle" | "running" | "stopped" {
    return this.handle.state();
  }

  /** Moves up to `maxTicks` ticks (default: all) out of the ring. */
  drain(maxTicks?: number): TickBatch {
    return new TickBatch(this.handle.drain(maxTicks));
  }

  stats(): SamplerStats {
    return this.handle.stats();
  }

  /** Records a label at the current time on the sampler's clock and returns that time. */
  mark(label: string): bigint {
    const tNs = addon.now();
    this.markers.push({ label, tNs });
    return tNs;
  }

  get marks(): readonly Marker[] {
    return this.markers;
  }
}

/** CLOCK_MONOTONIC in ns, the clock of every tick. */
export function nowNs(): bigint {
  return addon.now();
}
