// Raw energy counters to joules: the vocabulary of counter updates (first reading, difference,
// corrected difference after a wrap) shared by the probe's cross-check and energy accounting.

/** What one new reading of a counter tells. */
export type CounterUpdate =
  /** The first reading: nothing to subtract it from yet. */
  | { kind: "first-reading"; raw: bigint }
  /** The counter advanced (or stood still) since the previous reading. */
  | { kind: "difference"; raw: bigint; delta: bigint }
  /** The counter went down: it wrapped once at its modulus, and the delta is corrected for that. */
  | { kind: "corrected-difference"; raw: bigint; delta: bigint };

/** 2^64: the modulus of a raw value that declares no wrap (the ring stores uint64 bits). */
const U64_MODULUS = 1n << 64n;

/**
 * The difference between two readings of a counter that wraps at `wrap` (in raw units; 0 = only at
 * 2^64). A decrease is taken as exactly one wrap: more than one between two readings cannot be told
 * apart, which is why sources are sampled well within their wrap time.
 */
export function counterDifference(previous: bigint, current: bigint, wrap: bigint): CounterUpdate {
  if (current >= previous) return { kind: "difference", raw: current, delta: current - previous };
  const modulus = wrap > 0n ? wrap : U64_MODULUS;
  return { kind: "corrected-difference", raw: current, delta: modulus - previous + current };
}

/** One counter followed reading after reading: the total raw delta and how many wraps were corrected. */
export class Counter {
  private previous: bigint | undefined;
  private totalRaw = 0n;
  private wrapCount = 0;
  private readingCount = 0;

  /** `wrap`: modulus in raw units (0: never wraps below 2^64); `scale`: raw * scale = joules. */
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
    if (update.kind !== "first-reading") this.totalRaw += update.delta;
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

  get readings(): number {
    return this.readingCount;
  }
}
