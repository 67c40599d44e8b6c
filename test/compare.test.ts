// emp compare, calibrated runs, energy per unit of work and measureFunction against a powercap fixture: 5 W idle, 25 W while a flag file
// exists, held by hold-flag for a known time, so every command's net energy is known (20 W x the
// time it holds the flag) and the ratio between two commands is too.
import { unlinkSync, writeFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { compare } from "../src/compare/compare.js";
import { measureFunction } from "../src/measure/function.js";
import { measure } from "../src/measure/session.js";
import { EnergyWriter, HOLD_FLAG, powercapZone } from "./fixtures/energy.js";
import { FixtureTree, withRoots, writeCpuTopology } from "./fixtures/tree.js";

const IDLE_W = 5;
const BUSY_W = 25;
const RANGE_UJ = 1_999_999;

let tree: FixtureTree;
let writer: EnergyWriter;
let flag: string;
beforeEach(async () => {
  tree = FixtureTree.create();
  writeCpuTopology(tree, 1, 2);
  const energy = powercapZone(tree, { id: "intel-rapl:0", name: "package-0", maxEnergyRangeUj: RANGE_UJ });
  flag = tree.path("busy.flag");
  writer = await EnergyWriter.start(tree, [
    {
      format: "text",
      path: energy,
      unitJ: 1e-6,
      wrap: RANGE_UJ + 1,
      idleW: IDLE_W,
      busyW: BUSY_W,
      flagPath: flag,
    },
  ]);
});
afterEach(async () => {
  await writer.stop();
  tree.remove();
});

describe("compare", () => {
  it("A holds the flag 50 ms, B 75 ms: B/A of net medians is 1.5, its CI excludes 1.2, p < 0.01, runs interleaved", async () => {
    const summary = await withRoots({ EMP_SYSFS_ROOT: tree.root }, () =>
      compare({
        commands: [
          { name: "A", command: `${HOLD_FLAG} ${flag} 50` },
          { name: "B", command: `${HOLD_FLAG} ${flag} 75` },
        ],
        repeat: 8,
        warmup: 1,
        baselineS: 0.5,
        seed: 7,
        counters: [],
      }),
    );
    const energy = summary.comparisons.find((c) => c.quantity === "energy" && c.domain === "package-0");
    const time = summary.comparisons.find((c) => c.quantity === "duration");
    console.log(
      JSON.stringify({
        energy,
        time,
        commands: summary.commands.map((c) => [c.name, c.domains["package-0"]?.net_median_j]),
      }),
    );
    expect(summary.estimated).toBe(false);
    expect(summary.reference).toBe("A");
    expect(energy?.baseline).toBe("A");
    expect(energy?.candidate).toBe("B");
    expect(Math.abs((energy?.ratio ?? 0) / 1.5 - 1)).toBeLessThan(0.1);
    expect(energy?.ratio_ci95?.[0]).toBeGreaterThan(1.2);
    expect(energy?.ratio_ci95?.[1]).toBeGreaterThanOrEqual(energy?.ratio ?? Number.NaN);
    expect(energy?.p_value).toBeLessThan(0.01);
    expect(energy?.cliffs_delta).toBe(1);
    expect(energy?.verdict).toBe("costlier");
    expect(time?.verdict).toBe("slower");
    // Each command's net energy is what the fixture produced: 20 W over the time it held the flag.
    const netA = summary.commands[0]?.domains["package-0"]?.net_median_j ?? 0;
    expect(Math.abs(netA / (20 * 0.05) - 1)).toBeLessThan(0.1);
    // The resolution: the fixture's counter changes every 0.5 ms, which a 1 kHz sampler sees every 1 ms;
    // a 50 ms run spans about 50 of those changes (fewer where the machine made the sampler late).
    expect(summary.resolution).toHaveLength(1);
    const periodMs = summary.resolution[0]?.update_period_ms ?? 0;
    expect(periodMs).toBeGreaterThan(0.9);
    expect(periodMs).toBeLessThan(1.5);
    for (const run of summary.runs) {
      const updates = run.sensor_updates["package-0"] ?? 0;
      expect(updates).toBeLessThanOrEqual(Math.ceil((run.duration_s * 1000) / 0.5));
      expect(updates).toBeGreaterThan((run.duration_s * 1000) / periodMs / 2);
    }
    // Shuffled cycles: every pair of runs from the start is one of A and one of B, warmups too.
    expect(summary.order).toHaveLength(18);
    for (let cycle = 0; cycle < 9; cycle++) {
      expect([...summary.order.slice(2 * cycle, 2 * cycle + 2)].sort()).toEqual(["A", "B"]);
    }
    // ...in an order drawn from the seed, not always A first.
    const firsts = new Set(Array.from({ length: 9 }, (_, c) => summary.order[2 * c]));
    expect(firsts.size).toBe(2);
  });
});

describe("--min-run-ms", () => {
  it("a 10 ms command with --min-run-ms 200: 10 iterations or more per run, net energy per iteration 20 W x 10 ms", async () => {
    const summary = await withRoots({ EMP_SYSFS_ROOT: tree.root }, () =>
      measure({
        command: [HOLD_FLAG, flag, "10"],
        minRunMs: 200,
        repeat: 3,
        warmup: 0,
        baselineS: 0.5,
        counters: [],
      }),
    );
    const measured = summary.runs.filter((r) => !r.warmup);
    console.log(
      JSON.stringify({
        iterations: summary.iterations,
        runs: summary.runs.map((r) => [r.name, r.iterations, r.duration_s]),
        domain: summary.domains["package-0"],
      }),
    );
    expect(measured).toHaveLength(3);
    for (const run of measured) {
      expect(run.iterations).toBeGreaterThanOrEqual(10);
      expect(run.iterations).toBe(summary.iterations);
    }
    // The count is the one whose calibration run lasted 200 ms: a measured run may be a little
    // shorter where the machine was quieter than when it calibrated, so the wall time is checked there.
    const lastCalibration = summary.runs.filter((r) => r.name.startsWith("calibration")).at(-1);
    expect(lastCalibration?.iterations).toBe(summary.iterations);
    expect(lastCalibration?.duration_s).toBeGreaterThanOrEqual(0.2);
    // Calibration runs come first, named so, and are not counted.
    expect(summary.runs[0]?.name).toBe("calibration 1");
    expect(summary.runs[0]?.iterations).toBe(1);
    expect(summary.runs_counted).toBe(3);
    const perIterationJ = summary.domains["package-0"]?.net_median_j ?? 0;
    expect(Math.abs(perIterationJ / (20 * 0.01) - 1)).toBeLessThan(0.15);
    // Per run, the whole run's energy is the iterations' together.
    const wholeJ = measured[0]?.net_energy_j["package-0"] ?? 0;
    expect(Math.abs(wholeJ / ((measured[0]?.iterations ?? 0) * 0.2) - 1)).toBeLessThan(0.15);
    expect(summary.duration.median_s).toBeLessThan(0.02);
  });
});

describe("energy per unit of work", () => {
  it("a time-bounded benchmark: B does twice A's work in the same 50 ms; per run they cost alike, per unit of work B half", async () => {
    const summary = await withRoots({ EMP_SYSFS_ROOT: tree.root }, () =>
      compare({
        commands: [
          { name: "A", command: `${HOLD_FLAG} ${flag} 50; echo 'did 1000 ops'` },
          { name: "B", command: `${HOLD_FLAG} ${flag} 50; echo 'did 2000 ops'` },
        ],
        metrics: [{ name: "done", unit: "ops", pattern: "did (\\d+) ops" }],
        repeat: 8,
        warmup: 0,
        baselineS: 0.5,
        seed: 3,
        counters: [],
        commandStdout: "ignore",
      }),
    );
    const find = (quantity: string) =>
      summary.comparisons.find(
        (c) => c.quantity === quantity && (quantity !== "energy" || c.domain === "package-0"),
      );
    console.log(JSON.stringify(summary.comparisons));
    // Per run: the same 20 W x 50 ms above idle.
    expect(Math.abs((find("energy")?.ratio ?? 0) - 1)).toBeLessThan(0.1);
    expect(find("energy")?.verdict).not.toBe("cheaper");
    // Per unit of work: 1 J / 1000 ops against 1 J / 2000 ops.
    const work = find("work");
    expect(work?.domain).toBe("package-0");
    expect(Math.abs((work?.ratio ?? 0) / 0.5 - 1)).toBeLessThan(0.1);
    expect(work?.verdict).toBe("cheaper");
    expect(find("metric")?.ratio).toBe(2);
    expect(find("metric")?.verdict).toBe("higher");
    const a = summary.commands[0];
    expect(a?.work?.unit).toBe("J/ops");
    expect(Math.abs((a?.work?.domains["package-0"]?.net_median ?? 0) / (1 / 1000) - 1)).toBeLessThan(0.1);
    expect(a?.metrics.done?.median).toBe(1000);
  });

  it("--work and a rate --metric: J per MB from the fixed work, and from the rate times each run's duration", async () => {
    const byWork = await withRoots({ EMP_SYSFS_ROOT: tree.root }, () =>
      measure({
        command: [HOLD_FLAG, flag, "50"],
        work: { amount: 10, unit: "MB" },
        repeat: 3,
        warmup: 0,
        baselineS: 0.5,
        counters: [],
      }),
    );
    // 20 W x 50 ms = 1 J for 10 MB.
    expect(byWork.work?.unit).toBe("J/MB");
    expect(Math.abs((byWork.work?.domains["package-0"]?.net_median ?? 0) / 0.1 - 1)).toBeLessThan(0.1);
    const byRate = await withRoots({ EMP_SYSFS_ROOT: tree.root }, () =>
      measure({
        command: ["sh", "-c", `${HOLD_FLAG} ${flag} 50; echo 'throughput: 200 MB/s'`],
        metrics: [{ name: "tput", unit: "MB/s", pattern: "throughput: ([\\d.]+)" }],
        commandStdout: "ignore",
        repeat: 3,
        warmup: 0,
        baselineS: 0.5,
        counters: [],
      }),
    );
    const runs = byRate.runs.filter((r) => !r.warmup);
    expect(runs.map((r) => r.metrics.tput)).toEqual([200, 200, 200]);
    // Each run's work is 200 MB/s times its duration: its net energy over that.
    const expected = runs
      .map((r) => (r.net_energy_j["package-0"] ?? 0) / (200 * r.duration_s))
      .sort((x, y) => x - y);
    expect(byRate.work?.unit).toBe("J/MB");
    expect(byRate.work?.domains["package-0"]?.net_median).toBeCloseTo(expected[1] ?? 0, 12);
    expect(byRate.metrics.tput?.median).toBe(200);
  });
});

describe("measureFunction", () => {
  it("energy per call of an in-process function: 2 ms holding the flag per call is 20 W x 2 ms, calls iterated to 100 ms runs", async () => {
    const holdFlag2Ms = () => {
      writeFileSync(flag, "");
      const end = performance.now() + 2;
      while (performance.now() < end) {
        // busy: the fixture's power follows the flag, not this loop
      }
      unlinkSync(flag);
    };
    const summary = await withRoots({ EMP_SYSFS_ROOT: tree.root }, () =>
      measureFunction(holdFlag2Ms, { repeat: 4, baselineS: 0.5 }),
    );
    console.log(
      JSON.stringify({
        iterations: summary.iterations,
        domain: summary.domains["package-0"],
        duration: summary.duration,
      }),
    );
    expect(summary.command).toEqual(["holdFlag2Ms"]);
    expect(summary.iterations).toBeGreaterThanOrEqual(30);
    expect(summary.runs_counted).toBe(4);
    for (const run of summary.runs.filter((r) => !r.warmup)) expect(run.iterations).toBe(summary.iterations);
    // The count is the one whose calibration run lasted 100 ms (a later run may be a little shorter
    // where the machine was quieter than when it calibrated).
    const lastCalibration = summary.runs.filter((r) => r.name.startsWith("calibration")).at(-1);
    expect(lastCalibration?.iterations).toBe(summary.iterations);
    expect(lastCalibration?.duration_s).toBeGreaterThanOrEqual(0.1);
    expect(Math.abs((summary.domains["package-0"]?.net_median_j ?? 0) / (20 * 0.002) - 1)).toBeLessThan(0.15);
    expect(summary.duration.median_s).toBeGreaterThan(0.002);
    expect(summary.duration.median_s).toBeLessThan(0.004);
  });

  it("an async function is awaited: each call's time is its own", async () => {
    const wait5Ms = () => new Promise((resolve) => setTimeout(resolve, 5));
    const summary = await withRoots({ EMP_SYSFS_ROOT: tree.root }, () =>
      measureFunction(wait5Ms, { repeat: 2, warmup: 0, baselineS: 0.3, minTimeMs: 50 }),
    );
    expect(summary.iterations).toBeGreaterThanOrEqual(5);
    expect(summary.duration.median_s).toBeGreaterThanOrEqual(0.005);
  });
});
