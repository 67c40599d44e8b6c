// emp measure end to end against a powercap fixture: 5 W idle, 25 W while the measured command
// holds a flag file, a counter that wraps every 80 ms.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { measure } from "../src/measure/session.js";
import { EnergyWriter, powercapZone } from "./fixtures/energy.js";
import { FixtureTree, withRoots, writeCpuTopology } from "./fixtures/tree.js";

const IDLE_W = 5;
const BUSY_W = 25;
const RANGE_UJ = 1_999_999; // 2 J: wraps every 80 ms at 25 W

let tree: FixtureTree;
beforeEach(() => {
  tree = FixtureTree.create();
  writeCpuTopology(tree, 1, 2);
});
afterEach(() => tree.remove());

describe("measure", () => {
  it("subtracts the idle baseline: 0.3 s at 25 W over 5 W idle is 6 J net", async () => {
    const energy = powercapZone(tree, { id: "intel-rapl:0", name: "package-0", maxEnergyRangeUj: RANGE_UJ });
    const flag = tree.path("busy.flag");
    const writer = await EnergyWriter.start(tree, [
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
    try {
      const summary = await withRoots({ EMP_SYSFS_ROOT: tree.root }, () =>
        measure({
          command: ["sh", "-c", `touch ${flag}; sleep 0.3; rm ${flag}`],
          sampleHz: 1000,
          repeat: 3,
          warmup: 1,
          baselineS: 1,
          counters: ["task-clock"],
        }),
      );
      expect(summary.estimated).toBe(false);
      expect(summary.sampling.dropped).toBe(0);
      expect(summary.sampling.achieved_hz).toBeGreaterThan(900); // a loaded machine misses some deadlines (counted)
      expect(summary.baseline.power_w["package-0"]).toBeCloseTo(IDLE_W, 1);
      const domain = summary.domains["package-0"];
      expect(domain?.source).toBe("powercap");
      expect(summary.runs).toHaveLength(4);
      for (const run of summary.runs.filter((r) => !r.warmup)) {
        const expectedNetJ = (BUSY_W - IDLE_W) * run.duration_s;
        expect(Math.abs((run.net_energy_j["package-0"] ?? 0) - expectedNetJ) / expectedNetJ).toBeLessThan(
          0.05,
        );
      }
      expect(Math.abs((domain?.net_median_j ?? 0) - 6) / 6).toBeLessThan(0.05);
      console.log(
        JSON.stringify({
          baseline: summary.baseline,
          domain,
          sampling: summary.sampling,
          warnings: summary.warnings,
        }),
      );
    } finally {
      await writer.stop();
    }
  });
});

describe("measure warnings", () => {
  it("warns when a run is shorter than a few sensor updates and holds too few samples", async () => {
    const tree = FixtureTree.create();
    try {
      writeCpuTopology(tree, 1, 1);
      const energy = powercapZone(tree, {
        id: "intel-rapl:0",
        name: "package-0",
        maxEnergyRangeUj: RANGE_UJ,
      });
      const writer = await EnergyWriter.start(tree, [
        { format: "text", path: energy, unitJ: 1e-6, wrap: RANGE_UJ + 1, idleW: IDLE_W },
      ]);
      try {
        const summary = await withRoots({ EMP_SYSFS_ROOT: tree.root }, () =>
          measure({ command: ["true"], sampleHz: 1000, repeat: 2, warmup: 0, baselineS: 0.3, counters: [] }),
        );
        const text = summary.warnings.join("\n");
        expect(text).toMatch(/lasts fewer than 5 sensor updates/);
        expect(text).toMatch(/holds about \d+ samples \(fewer than 10\)/);
      } finally {
        await writer.stop();
      }
    } finally {
      tree.remove();
    }
  });
});
