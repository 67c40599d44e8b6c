// --work and --metric as given on the command line, and what a metric reads from a run's output.
import { describe, expect, it } from "vitest";
import { UsageError } from "../src/errors.js";
import {
  captureMetric,
  durationSpreadWarning,
  isRate,
  parseMetric,
  parseWork,
  workPerIteration,
  workUnit,
} from "../src/measure/work.js";

describe("--metric and --work", () => {
  it("parses NAME[UNIT]=REGEX, the unit optional", () => {
    expect(parseMetric("tput[MB/s]=([0-9.]+) MB/s")).toEqual({
      name: "tput",
      unit: "MB/s",
      pattern: "([0-9.]+) MB/s",
    });
    expect(parseMetric("ops=done (\\d+)")).toEqual({ name: "ops", unit: "", pattern: "done (\\d+)" });
    expect(() => parseMetric("no regex")).toThrow(UsageError);
    expect(() => parseMetric("x=(")).toThrow(/not a regular expression/);
    expect(() => parseWork("0", "MB")).toThrow(/above 0/);
    expect(() => parseWork("ten", "MB")).toThrow(UsageError);
    expect(parseWork("2.5", "GB")).toEqual({ amount: 2.5, unit: "GB" });
  });

  it("reads every match: amounts add up (one per iteration), rates average; none, or not a number, is null", () => {
    const ops = parseMetric("ops=did (\\d+) ops");
    expect(captureMetric(ops, "did 10 ops\ndid 12 ops\n")).toBe(22);
    const rate = parseMetric("r[MB/s]=([\\d.]+) MB/s");
    expect(isRate(rate)).toBe(true);
    expect(captureMetric(rate, "100 MB/s\n300 MB/s\n")).toBe(200);
    expect(captureMetric(rate, "nothing here")).toBeNull();
    expect(captureMetric(parseMetric("x=v=(\\S*)"), "v=abc")).toBeNull();
    expect(captureMetric(parseMetric("n=([\\d,]+) rows"), "1,024 rows")).toBe(1024);
  });

  it("the work of one iteration: --work's amount, or the rate times the iteration's time, or the amount per iteration", () => {
    const rate = parseMetric("r[MB/s]=(\\d+)");
    const amount = parseMetric("n[ops]=(\\d+)");
    expect(workPerIteration({ amount: 8, unit: "MB" }, rate, 5, 2, 4)).toBe(8);
    expect(workPerIteration(undefined, rate, 100, 2, 4)).toBe(50);
    expect(workPerIteration(undefined, amount, 100, 2, 4)).toBe(25);
    expect(workPerIteration(undefined, amount, null, 2, 4)).toBeNull();
    expect(workUnit(undefined, rate)).toBe("MB");
    expect(workUnit(undefined, amount)).toBe("ops");
    expect(workUnit(undefined, parseMetric("score=(\\d+)"))).toBe("score");
    expect(workUnit({ amount: 1, unit: "req" }, rate)).toBe("req");
  });
});

describe("durations apart", () => {
  it("warns past 2x between the shortest and the longest group, naming both and the fix; not at 2x", () => {
    const warning = durationSpreadWarning([
      { name: "v0.7.2", medianS: 0.1 },
      { name: "v0.7.3", medianS: 1.52 },
      { name: "v0.8.0", medianS: 1.5 },
    ]);
    expect(warning).toMatch(/more than 2x \(median 100 ms for v0\.7\.2, 1\.52e\+3 ms for v0\.7\.3\)/);
    expect(warning).toMatch(/--work N UNIT or --metric NAME=REGEX/);
    expect(
      durationSpreadWarning([
        { name: "a", medianS: 1 },
        { name: "b", medianS: 2 },
      ]),
    ).toBeNull();
    expect(durationSpreadWarning([{ name: "a", medianS: 1 }])).toBeNull();
  });
});
