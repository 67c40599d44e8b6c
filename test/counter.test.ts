// The counter vocabulary on numbers it could get wrong: wraps at a modulus and at 2^64.
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

  it("wraps at 2^64 when the channel declares no modulus", () => {
    expect(counterDifference(2n ** 64n - 2n, 1n, 0n)).toEqual({
      kind: "corrected-difference",
      raw: 1n,
      delta: 3n,
    });
  });
});
