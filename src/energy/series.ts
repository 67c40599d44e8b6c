// One channel's drained ticks turned into cumulative energy (joules since its first reading) on the
// sampler's clock: wrap-corrected counters, or power gauges integrated over time.
import { UsageError } from "../errors.js";
import type { SamplerChannelInfo } from "../native.js";
import type { TickBatch } from "../sampling/sampler.js";
import { Counter } from "./counter.js";

/** How a series got its joules: differences of an energy counter, or a power gauge integrated. */
export type SeriesMethod = "counter" | "integrated";

export type AccountingWarningCode =
  | "possible-hidden-wrap"
  | "baseline-drift"
  | "run-shorter-than-update-period"
  | "too-few-readings"
  | "counter-reset";

/** Something a reader of the numbers should know; never a reason to drop them. */
export interface AccountingWarning {
  code: AccountingWarningCode;
  domain: string;
  message: string;
  /** Where on the sampler's clock it happened, when it is one place. */
  tNs?: bigint;
}

const INITIAL_CAPACITY = 1024;

/**
 * Counters: the highest power is taken over windows of at least this long. Two reads microseconds
 * apart that straddle one sensor update would otherwise show a power many times the real one (one
 * RAPL step of ~1 ms of energy over 20 us), and false "possible hidden wrap" warnings with it.
 */
const POWER_WINDOW_NS = 1_000_000n;

/** Change times kept for the update period after discardBefore: its median needs no more. */
const CHANGES_KEPT = 4096;

/** A counter that never wraps went down between two readings (see CounterUpdate "reset"). */
export interface CounterReset {
  /** The reading that saw the lower value. */
  tNs: bigint;
  /** The reading before it: the energy between the two is lost. */
  previousNs: bigint;
  previousRaw: bigint;
  raw: bigint;
}

/**
 * Cumulative energy of one channel. It keeps a point for the first reading and for every fresh
 * reading (the value changed) of an energy counter, or for every reading of a power gauge: at
 * 10 kHz most RAPL ticks repeat the last value, and repeats carry no new information about when
 * energy was spent. Points live in typed arrays grown by doubling, 16 bytes per point (24 for
 * gauges, 32 for a counter that wraps, which also keeps the longest gap between readings up to
 * each point, so that a span knows whether a wrap could have hidden inside it) and no objects;
 * discardBefore lets a long session keep only what its next span needs.
 */
export class EnergySeries {
  readonly name: string;
  readonly domain: string;
  readonly method: SeriesMethod;
  /** The modulus of the counter in joules; 0 when it never wraps (and for gauges). */
  readonly wrapJ: number;

  private tNs = new BigInt64Array(INITIAL_CAPACITY);
  private energyJ = new Float64Array(INITIAL_CAPACITY);
  /** Gauges only: the power read at each point, W. */
  private powerW: Float64Array<ArrayBuffer> | undefined;
  /**
   * Wrapping counters only: the longest gap between two successive readings after the previous
   * point and up to this one, ns, and where it began.
   */
  private gapNs: Float64Array<ArrayBuffer> | undefined;
  private gapStartNs: BigInt64Array<ArrayBuffer> | undefined;
  private count = 0;

  private readonly counter: Counter | undefined;
  private readonly scale: number;
  private readonly signed: boolean;

  private readingCount = 0;
  private freshCount = 0;
  private lastRaw: bigint | undefined;
  private lastReadNs: bigint | undefined;
  private firstReadNs: bigint | undefined;
  /** Longest time between two successive readings, and where it began. */
  private maxGapNs = 0n;
  private maxGapStartNs: bigint | undefined;
  /** Longest gap between readings since the last point, and where it began (wrapping counters). */
  private pendingGapNs = 0n;
  private pendingGapStartNs = 0n;
  private readonly resetList: CounterReset[] = [];
  private highestPowerW = 0;
  /** Counters: where the current power window began (see POWER_WINDOW_NS). */
  private powerWindow: { tNs: bigint; energyJ: number } | undefined;
  /** Times of the readings where the value changed, for the update period. */
  private changeNs = new BigInt64Array(INITIAL_CAPACITY);
  private changeCount = 0;
  /** Cumulative energy (integrated) up to the previous reading, for gauges. */
  private integratedJ = 0;
  private lastPowerW = 0;

  /**
   * `channels`: the sampler's channels; `channel`: the index of an energy counter (quantity
   * "energy", counter) or a power gauge (quantity "power", not a counter) among them.
   */
  constructor(
    private readonly channels: readonly SamplerChannelInfo[],
    readonly channel: number,
  ) {
    const info = channels[channel];
    if (info === undefined) throw new UsageError(`no sampler channel ${channel}`);
    this.name = info.name;
    this.domain = info.domain;
    this.scale = info.scale;
    this.signed = info.signed;
    if (info.quantity === "energy" && info.counter) {
      this.method = "counter";
      this.counter = new Counter(BigInt(info.wrap), info.scale);
      this.wrapJ = info.wrap * info.scale;
      if (info.wrap > 0) {
        this.gapNs = new Float64Array(INITIAL_CAPACITY);
        this.gapStartNs = new BigInt64Array(INITIAL_CAPACITY);
      }
    } else if (info.quantity === "power" && !info.counter) {
      this.method = "integrated";
      this.powerW = new Float64Array(INITIAL_CAPACITY);
      this.wrapJ = 0;
    } else {
      throw new UsageError(
        `channel ${info.name} (${info.quantity}${info.counter ? ", counter" : ""}) is neither an energy counter nor a power gauge`,
      );
    }
  }

  /** Every energy counter and power gauge among the sampler's channels, one series each. */
  static forChannels(channels: readonly SamplerChannelInfo[]): EnergySeries[] {
    const out: EnergySeries[] = [];
    channels.forEach((c, i) => {
      if ((c.quantity === "energy" && c.counter) || (c.quantity === "power" && !c.counter)) {
        out.push(new EnergySeries(channels, i));
      }
    });
    return out;
  }

  /** Adds the channel's readings from one drain; batches must come in the order they were drained. */
  append(batch: TickBatch): this {
    const info = this.channels[this.channel];
    if (info === undefined || batch.raw.channels !== this.channels.length) {
      throw new UsageError("a TickBatch from another sampler was appended to an energy series");
    }
    const values = batch.rawChannel(this.channel);
    const times = batch.raw.tNs;
    for (let i = 0; i < batch.ticks; i++) {
      if (!batch.wasRead(i, info.sourceIndex)) continue;
      const t = times[i] as bigint;
      const raw = values[i] as bigint;
      this.reading(t, raw);
    }
    return this;
  }

  private reading(t: bigint, raw: bigint): void {
    this.readingCount++;
    const previousNs = this.lastReadNs;
    if (previousNs !== undefined && t - previousNs > this.maxGapNs) {
      this.maxGapNs = t - previousNs;
      this.maxGapStartNs = previousNs;
    }
    if (previousNs !== undefined && t - previousNs > this.pendingGapNs) {
      this.pendingGapNs = t - previousNs;
      this.pendingGapStartNs = previousNs;
    }
    if (this.firstReadNs === undefined) this.firstReadNs = t;
    this.lastReadNs = t;
    const changed = this.lastRaw !== undefined && raw !== this.lastRaw;
    this.lastRaw = raw;
    if (changed) {
      this.freshCount++;
      this.changeNs = grownBig(this.changeNs, this.changeCount);
      this.changeNs[this.changeCount++] = t;
    }
    if (this.counter !== undefined) this.counterReading(t, raw, changed, previousNs);
    else this.gaugeReading(t, raw, previousNs);
  }

  private counterReading(t: bigint, raw: bigint, changed: boolean, previousNs: bigint | undefined): void {
    const counter = this.counter as Counter;
    const update = counter.update(raw);
    if (update.kind === "reset") {
      this.resetList.push({ tNs: t, previousNs: previousNs ?? t, previousRaw: update.previous, raw });
    }
    if (update.kind !== "first-reading" && !changed) return;
    const energyJ = counter.energyJ;
    if (this.powerWindow === undefined) {
      this.powerWindow = { tNs: t, energyJ };
    } else if (t - this.powerWindow.tNs >= POWER_WINDOW_NS) {
      const dtS = Number(t - this.powerWindow.tNs) / 1e9;
      this.highestPowerW = Math.max(this.highestPowerW, (energyJ - this.powerWindow.energyJ) / dtS);
      this.powerWindow = { tNs: t, energyJ };
    }
    this.push(t, energyJ, 0);
  }

  private gaugeReading(t: bigint, raw: bigint, previousNs: bigint | undefined): void {
    const value = this.signed ? BigInt.asIntN(64, raw) : raw;
    const powerW = Number(value) * this.scale;
    if (previousNs !== undefined) {
      // Trapezoid: the power is taken to change linearly between two readings.
      this.integratedJ += ((this.lastPowerW + powerW) / 2) * (Number(t - previousNs) / 1e9);
    }
    this.lastPowerW = powerW;
    this.highestPowerW = Math.max(this.highestPowerW, powerW);
    this.push(t, this.integratedJ, powerW);
  }

  private push(t: bigint, energyJ: number, powerW: number): void {
    if (this.count === this.tNs.length) {
      this.tNs = grownBig(this.tNs, this.count);
      this.energyJ = grown(this.energyJ, this.count);
      if (this.powerW !== undefined) this.powerW = grown(this.powerW, this.count);
      if (this.gapNs !== undefined) this.gapNs = grown(this.gapNs, this.count);
      if (this.gapStartNs !== undefined) this.gapStartNs = grownBig(this.gapStartNs, this.count);
    }
    this.tNs[this.count] = t;
    this.energyJ[this.count] = energyJ;
    if (this.powerW !== undefined) this.powerW[this.count] = powerW;
    if (this.gapNs !== undefined && this.gapStartNs !== undefined) {
      this.gapNs[this.count] = Number(this.pendingGapNs);
      this.gapStartNs[this.count] = this.pendingGapStartNs;
    }
    this.pendingGapNs = 0n;
    this.count++;
  }

  /**
   * Forgets the points before `tNs` but the last one at or before it, so that every span from `tNs`
   * on still interpolates as before, and the change times but the latest CHANGES_KEPT (enough for a
   * stable median update period). A session calls it after each run: a study of many hours then
   * holds only what its next run can need. Returns the points dropped.
   */
  discardBefore(tNs: bigint): number {
    let keepFrom = 0;
    while (keepFrom + 1 < this.count && (this.tNs[keepFrom + 1] as bigint) <= tNs) keepFrom++;
    if (keepFrom > 0) {
      this.tNs.copyWithin(0, keepFrom, this.count);
      this.energyJ.copyWithin(0, keepFrom, this.count);
      this.powerW?.copyWithin(0, keepFrom, this.count);
      this.gapNs?.copyWithin(0, keepFrom, this.count);
      this.gapStartNs?.copyWithin(0, keepFrom, this.count);
      this.count -= keepFrom;
    }
    if (this.changeCount > 2 * CHANGES_KEPT) {
      this.changeNs.copyWithin(0, this.changeCount - CHANGES_KEPT, this.changeCount);
      this.changeCount = CHANGES_KEPT;
    }
    return keepFrom;
  }

  /** Number of points: the first reading and the fresh ones (counters), every reading (gauges). */
  get length(): number {
    return this.count;
  }

  /** Times of the points, ns on CLOCK_MONOTONIC: a view, valid until the next append. */
  get pointsNs(): BigInt64Array {
    return this.tNs.subarray(0, this.count);
  }

  /** Cumulative energy at each point, J since the first reading: a view, valid until the next append. */
  get pointsJ(): Float64Array {
    return this.energyJ.subarray(0, this.count);
  }

  /** Gauges: the power read at each point, W (a view); undefined for counters. */
  get pointsW(): Float64Array | undefined {
    return this.powerW?.subarray(0, this.count);
  }

  /**
   * Wrapping counters: at each point, the longest gap between two successive readings since the
   * previous point, ns (a view; 0 at the first point); undefined for other series.
   */
  get pointsGapNs(): Float64Array | undefined {
    return this.gapNs?.subarray(0, this.count);
  }

  /** Where each of pointsGapNs began, ns (a view). */
  get pointsGapStartNs(): BigInt64Array | undefined {
    return this.gapStartNs?.subarray(0, this.count);
  }

  /** Every reset seen, in order: rare, and kept for the session's warnings whatever was discarded. */
  get resets(): readonly CounterReset[] {
    return this.resetList;
  }

  /** Energy from the first reading to the last point, J. */
  get totalJ(): number {
    return this.count === 0 ? 0 : (this.energyJ[this.count - 1] as number);
  }

  /** Ticks where the source was read. */
  get readings(): number {
    return this.readingCount;
  }

  /** Readings whose value differed from the previous one: the real resolution of the series. */
  get freshReadings(): number {
    return this.freshCount;
  }

  /** Wraps corrected so far (counters). */
  get wraps(): number {
    return this.counter?.wraps ?? 0;
  }

  /** Resets of a counter that never wraps, seen so far (each a lost step of energy). */
  get resetCount(): number {
    return this.counter?.resets ?? 0;
  }

  get firstReadingNs(): bigint | undefined {
    return this.firstReadNs;
  }

  get lastReadingNs(): bigint | undefined {
    return this.lastReadNs;
  }

  /** Longest time between two successive readings, ns. */
  get longestGapNs(): bigint {
    return this.maxGapNs;
  }

  /**
   * The highest power seen: over successive windows of at least 1 ms of a counter's points, or a
   * gauge's highest reading, W.
   */
  get maxPowerW(): number {
    return this.highestPowerW;
  }

  /**
   * How many times the value changed within [startNs, endNs]: for a counter its fresh points there,
   * for a gauge the readings that differ from the one before. What decides how short a span can be
   * measured: a run spanning few updates has its energy set by where its ends fall between them.
   */
  updatesWithin(startNs: bigint, endNs: bigint): number {
    const times = this.pointsNs;
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((times[mid] as bigint) <= startNs) lo = mid + 1;
      else hi = mid;
    }
    const power = this.pointsW;
    let updates = 0;
    for (let i = lo; i < times.length && (times[i] as bigint) <= endNs; i++) {
      if (power === undefined || i === 0 || power[i] !== power[i - 1]) updates++;
    }
    return updates;
  }

  /**
   * The sensor's observed update period: the median time between two changes of the value, ns;
   * undefined before two changes. RAPL's is about 1 ms whatever the sample rate.
   */
  get updatePeriodNs(): number | undefined {
    if (this.changeCount < 2) return undefined;
    const intervals = new Float64Array(this.changeCount - 1);
    for (let i = 1; i < this.changeCount; i++) {
      intervals[i - 1] = Number((this.changeNs[i] as bigint) - (this.changeNs[i - 1] as bigint));
    }
    intervals.sort();
    const mid = intervals.length >> 1;
    return intervals.length % 2 === 1
      ? (intervals[mid] as number)
      : ((intervals[mid - 1] as number) + (intervals[mid] as number)) / 2;
  }

  /**
   * What to doubt in this series. A counter's decrease is corrected as exactly one wrap, so a gap
   * between two readings long enough for the counter to pass its whole range would hide a second
   * one. The rule: warn when the longest gap times the highest power seen reaches the wrap range
   * (gap x maxPowerW >= wrapJ), since the energy spent in that gap could then have been a range or
   * more, and the corrected difference would be short by that much. Each reset of a counter that
   * never wraps is a warning too, at the reading that saw it.
   */
  warnings(): AccountingWarning[] {
    const out: AccountingWarning[] = [];
    if (this.maxGapStartNs !== undefined) {
      const wrap = this.hiddenWrapWarning(this.maxGapStartNs, Number(this.maxGapNs));
      if (wrap !== undefined) out.push(wrap);
    }
    for (const reset of this.resetList) out.push(this.resetWarning(reset));
    return out;
  }

  /** The possible-hidden-wrap warning for a gap of `gapNs` from `startNs`, when the rule above holds. */
  hiddenWrapWarning(startNs: bigint, gapNs: number): AccountingWarning | undefined {
    if (this.method !== "counter" || this.wrapJ <= 0) return undefined;
    const gapS = gapNs / 1e9;
    const possibleJ = gapS * this.highestPowerW;
    if (possibleJ < this.wrapJ) return undefined;
    return {
      code: "possible-hidden-wrap",
      domain: this.domain,
      tNs: startNs,
      message:
        `${this.name}: ${(gapS * 1e3).toFixed(1)} ms passed between two readings; at up to ` +
        `${this.highestPowerW.toFixed(1)} W that is ${possibleJ.toFixed(3)} J, at least the counter's ` +
        `range of ${this.wrapJ.toFixed(3)} J, so a second wrap could have gone unseen`,
    };
  }

  /** The counter-reset warning for one reset: the energy between its two readings is lost. */
  resetWarning(reset: CounterReset): AccountingWarning {
    const lostMs = Number(reset.tNs - reset.previousNs) / 1e6;
    return {
      code: "counter-reset",
      domain: this.domain,
      tNs: reset.tNs,
      message:
        `${this.name}: counter reset: it never wraps but went down from ${reset.previousRaw} to ${reset.raw} ` +
        `(a driver reload or device reset); the ${lostMs.toFixed(3)} ms between those two readings count as 0 J`,
    };
  }
}

function grown(array: Float64Array<ArrayBuffer>, used: number): Float64Array<ArrayBuffer> {
  if (used < array.length) return array;
  const next = new Float64Array(array.length * 2);
  next.set(array);
  return next;
}

function grownBig(array: BigInt64Array<ArrayBuffer>, used: number): BigInt64Array<ArrayBuffer> {
  if (used < array.length) return array;
  const next = new BigInt64Array(array.length * 2);
  next.set(array);
  return next;
}
