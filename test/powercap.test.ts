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

describe("powercap zones without a usable max_energy_range_uj", () => {
  // Each is refused with its file and what it holds: a missing range used to become a wrap of 1.
  const refused: Array<[string, string | undefined, RegExp]> = [
    [
      "intel-rapl:1",
      undefined,
      /intel-rapl:1\/max_energy_range_uj cannot be read \(No such file or directory\)/,
    ],
    ["intel-rapl:2", "0", /intel-rapl:2\/max_energy_range_uj is 0: a counter range of 1 uJ or less/],
    ["intel-rapl:3", "1", /intel-rapl:3\/max_energy_range_uj is 1: a counter range of 1 uJ or less/],
    [
      "intel-rapl:4",
      "garbage",
      /intel-rapl:4\/max_energy_range_uj holds 'garbage', not a number of microjoules/,
    ],
  ];

  function refusedZones(): void {
    for (const [id, maxUj] of refused) {
      const dir = `class/powercap/${id}`;
      tree.file(`${dir}/name`, `package-${id.slice(-1)}`);
      tree.file(`${dir}/energy_uj`, "5000");
      if (maxUj !== undefined) tree.file(`${dir}/max_energy_range_uj`, maxUj);
    }
  }

  it("names each refused zone and still measures the valid sibling", async () => {
    const pkg = powercapZone(tree, { id: "intel-rapl:0", name: "package-0", maxEnergyRangeUj: MAX_RANGE_UJ });
    refusedZones();
    const [report] = await withRoots({ EMP_SYSFS_ROOT: tree.root }, () => addon.probe(["powercap"]));
    expect(report?.status).toBe("available");
    expect(report?.channels.map((c) => [c.name, c.wrap])).toEqual([["package-0", MAX_RANGE_UJ + 1]]);
    for (const [, , message] of refused) expect(report?.reason).toMatch(message);

    const writer = await EnergyWriter.start(tree, [
      { format: "text", path: pkg, unitJ: 1e-6, wrap: MAX_RANGE_UJ + 1, idleW: PACKAGE_W },
    ]);
    // No selection: Create itself must leave the refused zones out, not only the probe.
    const sampler = await withRoots({ EMP_SYSFS_ROOT: tree.root }, () => {
      return new Sampler({ sampleHz: 1000, sources: [{ kind: "powercap" }] });
    });
    expect(sampler.channels.map((c) => c.domain)).toEqual(["package-0"]);
    const { batch, logs } = await sampleWhileWriting(sampler, writer, 300);
    const writes = logs[0]?.writes ?? [];
    const expectedJ = energyBetweenWritesJ(writes, matchWrites(batch.rawChannel(0), writes), PACKAGE_W);
    const energyJ = unwrappedDelta(batch.channelNumbers(0), MAX_RANGE_UJ + 1) * 1e-6;
    expect(expectedJ).toBeGreaterThan(PACKAGE_W * 0.2);
    expect(Math.abs(energyJ - expectedJ)).toBeLessThan(3e-6);
  });

  it("makes the kind unsupported, with the reasons, when every zone is refused", async () => {
    refusedZones();
    const [report] = await withRoots({ EMP_SYSFS_ROOT: tree.root }, () => addon.probe(["powercap"]));
    expect(report?.status).toBe("unsupported");
    expect(report?.channels).toEqual([]);
    expect(report?.reason).toMatch(/^no usable powercap zone: /);
    for (const [, , message] of refused) expect(report?.reason).toMatch(message);
    expect(report?.fix).not.toBe("");

    const build = withRoots({ EMP_SYSFS_ROOT: tree.root }, () => {
      return new Sampler({ sampleHz: 1000, sources: [{ kind: "powercap" }] });
    });
    await expect(build).rejects.toMatchObject({
      code: "E_UNSUPPORTED",
      message: expect.stringMatching(/max_energy_range_uj is 1: /),
    });
  });

  it("refuses a zone named out of pattern instead of aborting", async () => {
    powercapZone(tree, { id: "intel-rapl:0", name: "package-x", maxEnergyRangeUj: MAX_RANGE_UJ });
    powercapZone(tree, { id: "intel-rapl:1", name: "package-1", maxEnergyRangeUj: MAX_RANGE_UJ });
    const [report] = await withRoots({ EMP_SYSFS_ROOT: tree.root }, () => addon.probe(["powercap"]));
    expect(report?.channels.map((c) => c.name)).toEqual(["package-1"]);
    expect(report?.reason).toMatch(/intel-rapl:0\/name is 'package-x', not a RAPL domain/);
  });
});
