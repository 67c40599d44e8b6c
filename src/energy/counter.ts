// Raw energy counters to joules: the vocabulary of counter updates (first reading, difference,
// corrected difference after a wrap, reset) shared by the probe's cross-check and energy accounting.

/** What one new reading of a counter tells. */
export type CounterUpdate =
  /** The first reading: nothing to subtract it from yet. */
  | { kind: "first-reading"; raw: bigint }
  /** The counter advanced (or stood still) since the previous reading. */
  | { kind: "difference"; raw: bigint; delta: bigint }
  /** The counter went down: it wrapped once at its modulus, and the delta is corrected for that. */
  | { kind: "corrected-difference"; raw: bigint; delta: bigint }
  /**
   * A counter declared never to wrap went down: it was reset (a driver reload, a GPU reset) and
   * counts again from near zero. The energy between the two readings is unknown, so the delta is 0.
   */
  | { kind: "reset"; raw: bigint; previous: bigint; delta: 0n };

/**
 * The difference between two readings of a counter that wraps at `wrap` (in raw units; 0 = never
 * wraps). A decrease of a wrapping counter is taken as exactly one wrap: more than one between two
 * readings cannot be told apart, which is why sources are sampled well within their wrap time. A
 * decrease of a counter that never wraps (NVML's 64-bit millijoules, the kernel's 64-bit perf
 * count) is a reset: reading it as a wrap at 2^64 would add some 1.8e16 raw units.
 */
export function counterDifference(
  previous: bigint,
  current: bigint,
  wrap: bigint,
): Exclude<CounterUpdate, { kind: "first-reading" }> {
  if (current >= previous) return { kind: "difference", raw: current, delta: current - previous };
  if (wrap === 0n) return { kind: "reset", raw: current, previous, delta: 0n };
  return { kind: "corrected-difference", raw: current, delta: wrap - previous + current };
}

/**
 * One counter followed reading after reading: the total raw delta, how many wraps were corrected
 * and how many resets were seen.
 */
export class Counter {
  private previous: bigint | undefined;
  private totalRaw = 0n;
  private wrapCount = 0;
  private resetCount = 0;
  private readingCount = 0;

  /** `wrap`: modulus in raw units (0: never wraps; a decrease is a reset); `scale`: raw * scale = joules. */
  constructor(
    readonly wrap: bigint,
    readonly scale: number,
  ) {}

  update(raw: bigint): CounterUpdate {
    this.readingCount++;
    if (this.previous === undefined) {
      this.previous = raw;
      return { kind: "first-reading", raw };
    }
    const update = counterDifference(this.previous, raw, this.wrap);
    if (update.kind === "corrected-difference") this.wrapCount++;
    if (update.kind === "reset") this.resetCount++;
    this.totalRaw += update.delta;
    this.previous = raw;
    return update;
  }

  /** Sum of the differences since the first reading, in raw units. */
  get deltaRaw(): bigint {
    return this.totalRaw;
  }

  /** Energy since the first reading, in joules (for an energy counter; `scale` converts raw to J). */
  get energyJ(): number {
    return Number(this.totalRaw) * this.scale;
  }

  get wraps(): number {
    return this.wrapCount;
  }

  /** Decreases of a counter that never wraps: each lost the energy between two readings. */
  get resets(): number {
    return this.resetCount;
  }

  get readings(): number {
    return this.readingCount;
  }
}
