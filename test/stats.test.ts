// Run statistics on answers worked out by hand, and a bootstrap interval checked against theory.
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../src/errors.js";
import { mulberry32 } from "../src/stats/random.js";
import { summarize } from "../src/stats/summary.js";

/** n draws from Normal(mu, sigma) by Box-Muller on the seeded generator. */
function normalSample(n: number, mu: number, sigma: number, seed: number): number[] {
  const random = mulberry32(seed);
  const out: number[] = [];
  while (out.length < n) {
    const u = 1 - random(); // (0, 1]: log stays finite
    const v = random();
    const r = Math.sqrt(-2 * Math.log(u));
    out.push(mu + sigma * r * Math.cos(2 * Math.PI * v), mu + sigma * r * Math.sin(2 * Math.PI * v));
  }
  return out.slice(0, n);
}

describe("summarize", () => {
  it("gives the textbook mean, median, sample deviation and CV", () => {
    const s = summarize([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(s.n).toBe(8);
    expect(s.mean).toBe(5);
    expect(s.median).toBe(4.5);
    // Population sd is 2; the sample sd divides 32 by 7, not 8.
    expect(s.stdev).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(s.stdev).toBeCloseTo(2.13809, 5);
    expect(s.cv).toBeCloseTo(Math.sqrt(32 / 7) / 5, 12);
    expect(s.min).toBe(2);
    expect(s.max).toBe(9);
    expect(s.confidence).toBe(0.95);
    const [lo, hi] = s.ci;
    expect(lo).toBeLessThan(5);
    expect(hi).toBeGreaterThan(5);
    expect(lo).toBeGreaterThanOrEqual(2);
    expect(hi).toBeLessThanOrEqual(9);
  });

  it("takes |mean| for the CV and gives null when the mean is 0", () => {
    expect(summarize([-2, -4, -4, -4, -5, -5, -7, -9]).cv).toBeCloseTo(Math.sqrt(32 / 7) / 5, 12);
    expect(summarize([-1, 1]).cv).toBeNull();
  });

  it("covers the true mean of a large normal sample with the width theory predicts", () => {
    const n = 2000;
    const values = normalSample(n, 10, 2, 12345);
    const s = summarize(values);
    const [lo, hi] = s.ci;
    expect(lo).toBeLessThan(10);
    expect(hi).toBeGreaterThan(10);
    expect(lo).toBeLessThan(s.mean);
    expect(hi).toBeGreaterThan(s.mean);
    const expected = (2 * 1.959964 * (s.stdev as number)) / Math.sqrt(n);
    expect(Math.abs(hi - lo - expected) / expected).toBeLessThan(0.1);
    // A 99 % interval is wider than the 95 % one on the same resamples.
    const wide = summarize(values, { confidence: 0.99 });
    expect(wide.ci[1] - wide.ci[0]).toBeGreaterThan(hi - lo);
  });

  it("repeats the interval for a seed and moves it for another", () => {
    const values = normalSample(50, 3, 1, 7);
    const a = summarize(values, { seed: 42 });
    const b = summarize(values, { seed: 42 });
    const c = summarize(values, { seed: 43 });
    expect(b.ci).toEqual(a.ci);
    expect(c.ci).not.toEqual(a.ci);
    expect(summarize(values).ci).toEqual(summarize(values).ci);
  });

  it("gives [c, c] on constant data, even where resampled sums would round", () => {
    const s = summarize(Array(7).fill(0.1));
    expect(s.ci).toEqual([0.1, 0.1]);
    expect(s.stdev).toBe(0);
    expect(s.cv).toBe(0);
    expect(s.min).toBe(0.1);
    expect(s.max).toBe(0.1);
  });

  it("reports one run with no spread and a point interval", () => {
    const s = summarize([3.5]);
    expect(s).toMatchObject({ n: 1, mean: 3.5, median: 3.5, stdev: null, cv: null, min: 3.5, max: 3.5 });
    expect(s.ci).toEqual([3.5, 3.5]);
  });

  it("refuses zero runs, non-finite values and options out of range", () => {
    expect(() => summarize([])).toThrow(InvalidArgumentError);
    expect(() => summarize([])).toThrow(/zero runs/);
    expect(() => summarize([1, Number.NaN, 3])).toThrow(/run 1 has a non-finite value \(NaN\)/);
    expect(() => summarize([1, Number.POSITIVE_INFINITY])).toThrow(InvalidArgumentError);
    expect(() => summarize([1, 2], { confidence: 1 })).toThrow(/confidence/);
    expect(() => summarize([1, 2], { confidence: 0 })).toThrow(/confidence/);
    expect(() => summarize([1, 2], { resamples: 0 })).toThrow(/resamples/);
    expect(() => summarize([1, 2], { resamples: 2.5 })).toThrow(/resamples/);
    expect(() => summarize([1, 2], { seed: Number.NaN })).toThrow(/seed/);
  });
});

describe("mulberry32", () => {
  it("is uniform in [0, 1) and repeats for a seed", () => {
    const a = mulberry32(1);
    const b = mulberry32(1);
    let sum = 0;
    let mismatches = 0;
    let outside = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = a();
      if (x !== b()) mismatches++;
      if (!(x >= 0 && x < 1)) outside++;
      sum += x;
    }
    expect(mismatches).toBe(0);
    expect(outside).toBe(0);
    expect(sum / 100_000).toBeCloseTo(0.5, 2);
    expect(mulberry32(2)()).not.toBe(mulberry32(1)());
  });
});
