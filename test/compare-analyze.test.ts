// emp compare's warnings on runs whose numbers are given: pyperf's spread rule on the net energy,
// hyperfine's outliers and slow first run. Each sample is chosen so the rule's verdict is known.
import { describe, expect, it } from "vitest";
import { type CommandSamples, commandOutliers, comparisonWarnings } from "../src/compare/analyze.js";
import type { CommandSummary } from "../src/compare/summary.js";
import type { DomainSummary } from "../src/measure/summary.js";
import { summarize } from "../src/stats/summary.js";

/** A command whose net energy per run is `netJ` and whose runs last `durationS`. */
function command(
  name: string,
  netJ: number[],
  durationS: number[],
): { s: CommandSamples; c: CommandSummary } {
  const n = summarize(netJ);
  const d = summarize(durationS);
  const domain = {
    net_mean_j: n.mean,
    net_median_j: n.median,
    net_stdev_j: n.stdev,
  } as DomainSummary;
  const s: CommandSamples = { name, energyJ: { cpu: netJ }, durationS, workJ: {}, metrics: {} };
  const c: CommandSummary = {
    name,
    command: name,
    iterations: 1,
    runs_counted: netJ.length,
    failed_runs: 0,
    domains: { cpu: domain },
    duration_s: {
      median: d.median,
      mean: d.mean,
      stdev: d.stdev,
      ci95: [d.ci[0], d.ci[1]],
      min: d.min,
      max: d.max,
    },
    counters_median: {},
    work: null,
    metrics: {},
    outliers: commandOutliers(s),
  };
  return { s, c };
}

const options = { alpha: 0.05, correction: "holm" as const, seed: 1, reference: 0 };

describe("emp compare's warnings", () => {
  it("a net energy whose cv reaches 10 % is unstable (pyperf); one at 2 % is not", () => {
    // cv of [0.8, 1, 1.2, 1, 1] is 0.1414 / 1 = 14 %; of [0.98, 1, 1.02, 1, 1] it is 1.4 %.
    const noisy = command("noisy", [0.8, 1, 1.2, 1, 1], [0.1, 0.1, 0.1, 0.1, 0.1]);
    const steady = command("steady", [0.98, 1, 1.02, 1, 1], [0.1, 0.1, 0.1, 0.1, 0.1]);
    const warnings = comparisonWarnings([noisy.s, steady.s], [noisy.c, steady.c], [], options);
    expect(warnings.filter((w) => /pyperf's rule/.test(w))).toEqual([
      expect.stringMatching(
        /^noisy: its cpu net energy varies by 14 % of the mean between runs \(above 10 %/,
      ),
    ]);
  });

  it("a first run far slower than the rest, and a run far from the others, are named", () => {
    const cold = command("cold", [1, 1, 1, 1, 1, 1], [0.5, 0.1, 0.101, 0.099, 0.1, 0.1]);
    expect(cold.c.outliers).toEqual({ duration: ["run 1"] });
    const warnings = comparisonWarnings([cold.s], [cold.c], [], options);
    expect(warnings).toContainEqual(expect.stringMatching(/^cold: run 1 is an outlier in duration/));
    expect(warnings).toContainEqual(expect.stringMatching(/^cold: its first measured run took much longer/));
  });
});
