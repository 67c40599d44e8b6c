// The thermal source against a fixture tree: thermal zones and a k10temp hwmon device, in millidegrees.
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { addon } from "../src/native.js";
import { Sampler, type TickBatch } from "../src/sampling/sampler.js";
import { FixtureTree, withRoots, writeCpuTopology } from "./fixtures/tree.js";

let tree: FixtureTree;

beforeEach(() => {
  tree = FixtureTree.create();
  tree.file("class/thermal/thermal_zone0/type", "acpitz");
  tree.file("class/thermal/thermal_zone0/temp", "-1500");
  tree.file("class/hwmon/hwmon0/name", "k10temp");
  tree.file("class/hwmon/hwmon0/temp1_input", "45250");
  tree.file("class/hwmon/hwmon0/temp1_label", "Tctl");
  // Not a CPU driver: left out (reading it would cost an NVMe admin command).
  tree.file("class/hwmon/hwmon1/name", "nvme");
  tree.file("class/hwmon/hwmon1/temp1_input", "38850");
});

afterEach(() => tree.remove());

/** Last value read of every channel in a batch, by channel name, as signed millidegrees. */
function lastRead(sampler: Sampler, batch: TickBatch): Map<string, number> {
  const values = new Map<string, number>();
  sampler.channels.forEach((channel, c) => {
    const series = batch.channelNumbers(c, channel.signed);
    for (let i = batch.ticks - 1; i >= 0; i--) {
      if (batch.wasRead(i, channel.sourceIndex)) {
        values.set(channel.name, series[i] as number);
        break;
      }
    }
  });
  return values;
}

describe("thermal source", () => {
  it("probes zones and CPU hwmon inputs as signed gauges in mC", async () => {
    const [report] = await withRoots({ EMP_SYSFS_ROOT: tree.root }, () => addon.probe(["thermal"]));
    expect(report?.status).toBe("available");
    expect(report?.channels.map((c) => [c.name, c.domain])).toEqual([
      ["thermal-acpitz-0", "system"],
      ["k10temp-Tctl", "system"],
    ]);
    for (const channel of report?.channels ?? []) {
      expect(channel).toMatchObject({
        quantity: "temperature",
        unit: "mC",
        scale: 1e-3,
        counter: false,
        signed: true,
        wrap: 0,
      });
    }
  });

  it("puts k10temp on package-0 when the topology has one package", async () => {
    writeCpuTopology(tree, 1, 2);
    const [report] = await withRoots({ EMP_SYSFS_ROOT: tree.root }, () => addon.probe(["thermal"]));
    expect(report?.channels.find((c) => c.name === "k10temp-Tctl")?.domain).toBe("package-0");
  });

  it("names coretemp inputs by label and per package when labels repeat", async () => {
    writeCpuTopology(tree, 2, 1);
    for (const [hwmon, pkg] of [
      ["hwmon2", 0],
      ["hwmon3", 1],
    ] as const) {
      tree.file(`class/hwmon/${hwmon}/name`, "coretemp");
      tree.file(`class/hwmon/${hwmon}/temp1_label`, `Package id ${pkg}`);
      tree.file(`class/hwmon/${hwmon}/temp1_input`, "50000");
      tree.file(`class/hwmon/${hwmon}/temp2_label`, "Core 0");
      tree.file(`class/hwmon/${hwmon}/temp2_input`, "49000");
    }
    const [report] = await withRoots({ EMP_SYSFS_ROOT: tree.root }, () => addon.probe(["thermal"]));
    const names = report?.channels.map((c) => `${c.name}@${c.domain}`);
    expect(names).toEqual(
      expect.arrayContaining([
        "coretemp-Package-id-0@package-0",
        "coretemp-package-0-Core-0@package-0",
        "coretemp-Package-id-1@package-1",
        "coretemp-package-1-Core-0@package-1",
      ]),
    );
  });

  it("reports absent with the reason and a fix on an empty tree", async () => {
    const empty = FixtureTree.create();
    try {
      const [report] = await withRoots({ EMP_SYSFS_ROOT: empty.root }, () => addon.probe(["thermal"]));
      expect(report?.status).toBe("absent");
      expect(report?.reason).toContain("class/thermal");
      expect(report?.fix).toContain("modprobe");
    } finally {
      empty.remove();
    }
  });

  it("samples exactly the written values, negative included, and follows rewrites", async () => {
    const sampler = await withRoots(
      { EMP_SYSFS_ROOT: tree.root },
      () => new Sampler({ sampleHz: 100, sources: [{ kind: "thermal" }] }),
    );
    // Temperatures are read at 10 Hz at most, whatever the sampler's rate.
    expect(sampler.channels.every((c) => c.hz === 10 && c.everyTicks === 10)).toBe(true);
    sampler.start();
    try {
      await sleep(250);
      expect(lastRead(sampler, sampler.drain())).toEqual(
        new Map([
          ["thermal-acpitz-0", -1500],
          ["k10temp-Tctl", 45250],
        ]),
      );
      expect(sampler.stats().readErrors).toEqual([0]);
      // Rewritten in place as the kernel updates it (a rename would leave the open fd on the old file).
      tree.file("class/thermal/thermal_zone0/temp", "-27125");
      tree.file("class/hwmon/hwmon0/temp1_input", "61000");
      await sleep(250);
      expect(lastRead(sampler, sampler.drain())).toEqual(
        new Map([
          ["thermal-acpitz-0", -27125],
          ["k10temp-Tctl", 61000],
        ]),
      );
    } finally {
      sampler.stop();
    }
  });
});
