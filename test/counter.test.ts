// The counter vocabulary on numbers it could get wrong: wraps at a modulus, resets of a counter that never wraps.
import { describe, expect, it } from "vitest";
import { Counter, counterDifference } from "../src/energy/counter.js";

describe("energy counter", () => {
  it("names the first reading, a difference and a corrected difference", () => {
    const counter = new Counter(1000n, 1e-6);
    expect(counter.update(990n)).toEqual({ kind: "first-reading", raw: 990n });
    expect(counter.update(995n)).toEqual({ kind: "difference", raw: 995n, delta: 5n });
    expect(counter.update(3n)).toEqual({ kind: "corrected-difference", raw: 3n, delta: 8n });
    expect(counter.deltaRaw).toBe(13n);
    expect(counter.wraps).toBe(1);
    expect(counter.readings).toBe(3);
    expect(counter.energyJ).toBeCloseTo(13e-6, 15);
  });

  it("takes a decrease of a counter that never wraps as a reset: a zero delta, never a wrap at 2^64", () => {
    // NVML's millijoules after a driver reload: from 2^64 - 2 read as a wrap this would add 3 mJ,
    // and from 5e9 mJ it would add 2^64 - 5e9 + 1200 mJ, about 1.8e16 J.
    expect(counterDifference(2n ** 64n - 2n, 1n, 0n)).toEqual({
      kind: "reset",
      raw: 1n,
      previous: 2n ** 64n - 2n,
      delta: 0n,
    });
    const counter = new Counter(0n, 1e-3);
    counter.update(5_000_000_000n);
    counter.update(5_000_000_500n);
    expect(counter.update(1_200n)).toEqual({
      kind: "reset",
      raw: 1_200n,
      previous: 5_000_000_500n,
      delta: 0n,
    });
    expect(counter.update(1_700n)).toEqual({ kind: "difference", raw: 1_700n, delta: 500n });
    // 500 mJ before and 500 mJ after the reset; the energy across it is lost, not invented.
    expect(counter.energyJ).toBeCloseTo(1, 12);
    expect(counter.resets).toBe(1);
    expect(counter.wraps).toBe(0);
  });
});
