// RAPL through powercap, against a zone tree whose energy_uj a writer process advances in place.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { addon } from "../src/native.js";
import { Sampler } from "../src/sampling/sampler.js";
import {
  countWraps,
  energyBetweenWritesJ,
  matchWrites,
  sampleWhileWriting,
  unwrappedDelta,
} from "./fixtures/counters.js";
import { EnergyWriter, powercapZone } from "./fixtures/energy.js";
import { FixtureTree, withRoots, writeCpuTopology } from "./fixtures/tree.js";

const MAX_RANGE_UJ = 1_999_999; // wraps every 80 ms at 25 W
const PACKAGE_W = 25;
const CORE_W = 10;

let tree: FixtureTree;
beforeEach(() => {
  tree = FixtureTree.create();
  writeCpuTopology(tree, 1, 2);
});
afterEach(() => tree.remove());

describe("powercap source", () => {
  it("discovers zones with their domains and wrap range", async () => {
    powercapZone(tree, { id: "intel-rapl:0", name: "package-0", maxEnergyRangeUj: MAX_RANGE_UJ });
    powercapZone(tree, { id: "intel-rapl:0:0", name: "core", maxEnergyRangeUj: MAX_RANGE_UJ });
    powercapZone(tree, { id: "intel-rapl:0:1", name: "dram", maxEnergyRangeUj: 65_532_610_987 });
    const [report] = await withRoots({ EMP_SYSFS_ROOT: tree.root }, () => addon.probe(["powercap"]));
    expect(report?.status).toBe("available");
    expect(report?.channels.map((c) => [c.domain, c.wrap, c.scale, c.unit])).toEqual([
      ["package-0", MAX_RANGE_UJ + 1, 1e-6, "uJ"],
      ["core-0", MAX_RANGE_UJ + 1, 1e-6, "uJ"],
      ["dram-0", 65_532_610_988, 1e-6, "uJ"],
    ]);
  });

  it("reads exactly what the kernel wrote and recovers the energy across wraps", async () => {
    const pkg = powercapZone(tree, { id: "intel-rapl:0", name: "package-0", maxEnergyRangeUj: MAX_RANGE_UJ });
    const core = powercapZone(tree, { id: "intel-rapl:0:0", name: "core", maxEnergyRangeUj: MAX_RANGE_UJ });
    const writer = await EnergyWriter.start(tree, [
      { format: "text", path: pkg, unitJ: 1e-6, wrap: MAX_RANGE_UJ + 1, idleW: PACKAGE_W },
      { format: "text", path: core, unitJ: 1e-6, wrap: MAX_RANGE_UJ + 1, idleW: CORE_W },
    ]);
    const sampler = await withRoots({ EMP_SYSFS_ROOT: tree.root }, () => {
      return new Sampler({ sampleHz: 1000, sources: [{ kind: "powercap" }] });
    });
    const { batch, logs } = await sampleWhileWriting(sampler, writer, 600);
    expect(sampler.stats().dropped).toBe(0);
    expect(batch.ticks).toBeGreaterThan(500);
    expect(sampler.channels.map((c) => c.domain)).toEqual(["package-0", "core-0"]);

    for (const [c, powerW] of [
      [0, PACKAGE_W],
      [1, CORE_W],
    ] as const) {
      const writes = logs[c]?.writes ?? [];
      // Every sampled value is one the writer wrote, in the order it wrote them.
      const indices = matchWrites(batch.rawChannel(c), writes);
      const expectedJ = energyBetweenWritesJ(writes, indices, powerW);
      const energyJ = unwrappedDelta(batch.channelNumbers(c), MAX_RANGE_UJ + 1) * 1e-6;
      expect(expectedJ).toBeGreaterThan(powerW * 0.5);
      // Each end is floored to a whole microjoule by the writer.
      expect(Math.abs(energyJ - expectedJ)).toBeLessThan(3e-6);
    }
    // 25 W over ~0.6 s through a 2 J range: the package counter must have wrapped several times.
    const wraps = countWraps(batch.channelNumbers(0));
    expect(wraps).toBeGreaterThanOrEqual(6);
  });
});
