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

/** Typed-array views (no copy) over the buffer a native drain filled; layout in NativeSampler.drain. */
/**
 * The drain buffer's column widths in bytes (native/sampler_wrap.cc lays it out:
 * t_ns, values column-major, lateness_ns, read_ns, read_mask); test/contracts.test.ts compares them.
 */
export const DRAIN_LAYOUT = { timeBytes: 8, valueBytes: 8, latenessBytes: 4, readBytes: 4 } as const;

/** Bytes of the read mask of `sources` sources: one bit each, in 8, 16 or 32 bits. */
export function readMaskBytes(sources: number): 1 | 2 | 4 {
  return sources <= 8 ? 1 : sources <= 16 ? 2 : 4;
}

function columnsOf(buffer: ArrayBuffer, channels: number, maskBytes: 1 | 2 | 4): DrainResult {
  const L = DRAIN_LAYOUT;
  const ticks =
    buffer.byteLength / (L.timeBytes + L.valueBytes * channels + L.latenessBytes + L.readBytes + maskBytes);
  const valuesAt = L.timeBytes * ticks;
  const lateAt = valuesAt + L.valueBytes * ticks * channels;
  const readAt = lateAt + L.latenessBytes * ticks;
  const maskAt = readAt + L.readBytes * ticks;
  return {
    ticks,
    channels,
    tNs: new BigInt64Array(buffer, 0, ticks),
    values: new BigUint64Array(buffer, valuesAt, ticks * channels),
    latenessNs: new Int32Array(buffer, lateAt, ticks),
    readNs: new Int32Array(buffer, readAt, ticks),
    readMask:
      maskBytes === 1
        ? new Uint8Array(buffer, maskAt, ticks)
        : maskBytes === 2
          ? new Uint16Array(buffer, maskAt, ticks)
          : new Uint32Array(buffer, maskAt, ticks),
  };
}

export class Sampler {
  readonly channels: readonly SamplerChannelInfo[];
  readonly sampleHz: number;
  private readonly handle: NativeSampler;
  private readonly markers: Marker[] = [];
  private readonly maskBytes: 1 | 2 | 4;

  constructor(options: SamplerOptions) {
    this.handle = native(() => new addon.Sampler(options));
    this.channels = this.handle.channels();
    this.sampleHz = options.sampleHz;
    const sources = this.handle.stats().readErrors.length; // one entry per source
    this.maskBytes = readMaskBytes(sources);
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
    return new TickBatch(columnsOf(this.handle.drain(maxTicks), this.channels.length, this.maskBytes));
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
