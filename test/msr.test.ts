// RAPL through the MSR device, against sparse files whose registers sit at their addresses and
// a writer process that advances the energy registers in place, through a 32-bit wrap.
import { existsSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EmpError } from "../src/errors.js";
import { addon, type SensorReport } from "../src/native.js";
import { Sampler } from "../src/sampling/sampler.js";
import {
  countWraps,
  energyBetweenWritesJ,
  matchWrites,
  sampleWhileWriting,
  unwrappedDelta,
} from "./fixtures/counters.js";
import { type CounterSpec, EnergyWriter, msrDevice } from "./fixtures/energy.js";
import { FixtureTree, withRoots, writeCpuTopology } from "./fixtures/tree.js";

const WRAP = 2 ** 32;
// 20000 counts below the wrap: at 25 W and 2^-14 J a count, the counter wraps after ~50 ms.
const START = WRAP - 20_000;

/**
 * A start value that makes a counter at `powerW` wrap `afterS` after the writer starts: in the middle
 * of the 600 ms sampled, so a sampler that starts late on a loaded machine still sees the wrap (with
 * START, a 30 W counter in 2^-16 J wrapped 10 ms in, before a late sampler had read it once).
 */
function wrapsAfter(powerW: number, unitJ: number, afterS = 0.25): number {
  return WRAP - Math.round((powerW * afterS) / unitJ);
}

const INTEL = { powerUnit: 0x606, pkg: 0x611, pp0: 0x639, pp1: 0x641, dram: 0x619, psys: 0x64d } as const;
const AMD = { powerUnit: 0xc0010299, core: 0xc001029a, pkg: 0xc001029b } as const;

// 0x606 as a Skylake server reports it: power unit 2^-3 W, energy status unit 14, time unit 2^-10 s.
const INTEL_POWER_UNIT = 0x000a0e03n;
// 0xC0010299 as Zen reports it: energy status unit 16 (15.3 uJ).
const AMD_POWER_UNIT = 0x000a1003n;

let tree: FixtureTree;
beforeEach(() => {
  tree = FixtureTree.create();
});
afterEach(() => tree.remove());

function cpuinfo(vendor: string, family: number, model: number, cpus: number): void {
  const blocks: string[] = [];
  for (let cpu = 0; cpu < cpus; cpu++) {
    blocks.push(
      [
        `processor\t: ${cpu}`,
        `vendor_id\t: ${vendor}`,
        `cpu family\t: ${family}`,
        `model\t\t: ${model}`,
        "model name\t: Fixture CPU",
        "stepping\t: 4",
      ].join("\n"),
    );
  }
  tree.file("cpuinfo", `${blocks.join("\n\n")}\n`);
}

/** The roots all point at the tree: sysfs topology, dev/cpu/N/msr and cpuinfo live side by side. */
function inTree<T>(body: () => T): Promise<T> {
  return withRoots({ EMP_SYSFS_ROOT: tree.root, EMP_DEV_ROOT: tree.root, EMP_PROCFS_ROOT: tree.root }, body);
}

async function probe(): Promise<SensorReport> {
  const [report] = await inTree(() => addon.probe(["msr"]));
  if (report === undefined) throw new Error("probe returned no msr report");
  return report;
}

/** Two packages of two CPUs; registers on CPU 0 (package 0) and CPU 2 (package 1). */
function intelServer(model: number): { cpu0: string; cpu2: string } {
  writeCpuTopology(tree, 2, 2);
  cpuinfo("GenuineIntel", 6, model, 4);
  const cpu0 = msrDevice(tree, 0, {
    [INTEL.powerUnit]: INTEL_POWER_UNIT,
    [INTEL.pkg]: BigInt(START),
    [INTEL.pp0]: BigInt(START),
    [INTEL.pp1]: 0n, // implemented but unused on a server: left out
    [INTEL.dram]: BigInt(START),
    [INTEL.psys]: BigInt(START),
  });
  const cpu2 = msrDevice(tree, 2, {
    [INTEL.powerUnit]: INTEL_POWER_UNIT,
    [INTEL.pkg]: BigInt(START),
    [INTEL.pp0]: BigInt(START),
    [INTEL.dram]: BigInt(START),
  });
  return { cpu0, cpu2 };
}

/**
 * One package, two cores of two SMT threads: CPUs 0 and 2 share core 0, CPUs 1 and 3 core 1.
 *
 * AMD's three RAPL MSRs are numbered one apart and the msr driver reads 8 bytes at the register
 * number, so a flat file cannot hold them independently: on CPU 0 the core register's bytes are
 * the unit's upper bytes and the package counter's lower ones. CPU 0 therefore holds the unit and
 * the package counter (the writer drives the package), and core 1's counter lives alone on CPU 1.
 * Core 0's channel still exists (it reads non-zero), but its value is the overlap, not a counter.
 */
function amdZen(vendor = "AuthenticAMD", family = 0x19): { cpu0: string; cpu1: string } {
  tree.file("devices/system/cpu/online", "0-3");
  for (let cpu = 0; cpu < 4; cpu++) {
    tree.file(`devices/system/cpu/cpu${cpu}/topology/physical_package_id`, "0");
    tree.file(`devices/system/cpu/cpu${cpu}/topology/core_id`, String(cpu % 2));
  }
  cpuinfo(vendor, family, 0x01, 4);
  const cpu0 = msrDevice(tree, 0, { [AMD.powerUnit]: AMD_POWER_UNIT, [AMD.pkg]: BigInt(START) });
  const cpu1 = msrDevice(tree, 1, { [AMD.core]: BigInt(START) });
  return { cpu0, cpu1 };
}

interface Driven {
  channel: string;
  powerW: number;
  spec: CounterSpec;
}

/** Samples the msr source at 1 kHz while the writer drives `driven`; checks every value and the energy. */
async function sampleAndCheck(driven: Driven[]): Promise<Sampler> {
  const writer = await EnergyWriter.start(
    tree,
    driven.map((d) => d.spec),
  );
  const sampler = await inTree(() => new Sampler({ sampleHz: 1000, sources: [{ kind: "msr" }] })).catch(
    async (error: unknown) => {
      await writer.stop();
      throw error;
    },
  );
  const { batch, logs } = await sampleWhileWriting(sampler, writer, 600);
  expect(sampler.stats().dropped).toBe(0);
  expect(sampler.stats().readErrors).toEqual([0]);
  expect(batch.ticks).toBeGreaterThan(400);
  const names = sampler.channels.map((c) => c.name);
  for (const [k, d] of driven.entries()) {
    const c = names.indexOf(d.channel);
    expect(c, `channel ${d.channel}`).toBeGreaterThanOrEqual(0);
    const scale = sampler.channels[c]?.scale ?? 0;
    expect(scale).toBe(d.spec.unitJ);
    const writes = logs[k]?.writes ?? [];
    const indices = matchWrites(batch.rawChannel(c), writes);
    const expectedJ = energyBetweenWritesJ(writes, indices, d.powerW);
    const series = batch.channelNumbers(c);
    const energyJ = unwrappedDelta(series, WRAP) * scale;
    expect(expectedJ).toBeGreaterThan(d.powerW * 0.3);
    // The writer floors each value to a whole count: the two ends differ by less than 2 counts.
    expect(Math.abs(energyJ - expectedJ), `${d.channel}: ${energyJ} J vs ${expectedJ} J`).toBeLessThan(
      2 * scale,
    );
    expect(countWraps(series), `${d.channel} wrapped`).toBeGreaterThanOrEqual(1);
    console.log(
      `${d.channel}: ${series.length} samples, ${countWraps(series)} wrap(s), ${energyJ.toFixed(9)} J read vs ` +
        `${expectedJ.toFixed(9)} J written (|diff| ${Math.abs(energyJ - expectedJ).toExponential(2)} J, count ${scale.toExponential(3)} J)`,
    );
  }
  return sampler;
}

describe("msr source, Intel", () => {
  it("decodes the energy unit and applies the fixed DRAM unit of a Skylake server", async () => {
    intelServer(0x55);
    const report = await probe();
    expect(report.status).toBe("available");
    expect(report.details).toMatchObject({
      vendor: "GenuineIntel",
      family: "0x6",
      model: "0x55",
      energy_status_unit: "14",
      cpus: "0,2",
    });
    expect(Number(report.details.energy_unit_j)).toBe(2 ** -14);
    expect(Number(report.details.dram_energy_unit_j)).toBe(2 ** -16);
    expect(report.channels.map((c) => [c.name, c.domain, c.scale, c.wrap, c.unit, c.origin])).toEqual([
      ["package-0", "package-0", 2 ** -14, WRAP, "esu", "msr 0x611 on cpu 0"],
      ["core-0", "core-0", 2 ** -14, WRAP, "esu", "msr 0x639 on cpu 0"],
      ["dram-0", "dram-0", 2 ** -16, WRAP, "esu", "msr 0x619 on cpu 0"],
      ["package-1", "package-1", 2 ** -14, WRAP, "esu", "msr 0x611 on cpu 2"],
      ["core-1", "core-1", 2 ** -14, WRAP, "esu", "msr 0x639 on cpu 2"],
      ["dram-1", "dram-1", 2 ** -16, WRAP, "esu", "msr 0x619 on cpu 2"],
      ["psys", "psys", 2 ** -14, WRAP, "esu", "msr 0x64d on cpu 0"],
    ]);
  });

  it("follows 0x606 for DRAM on a client model and on Sapphire Rapids, whose psys unit is 1 J", async () => {
    intelServer(0x9e); // Kaby Lake client
    let report = await probe();
    expect(report.channels.find((c) => c.name === "dram-0")?.scale).toBe(2 ** -14);
    expect(report.details.dram_unit_quirk).toBeUndefined();

    cpuinfo("GenuineIntel", 6, 0x8f, 4); // Sapphire Rapids-SP
    report = await probe();
    expect(report.channels.find((c) => c.name === "dram-0")?.scale).toBe(2 ** -14);
    expect(report.channels.find((c) => c.name === "psys")?.scale).toBe(1);
  });

  it("reads exactly what the registers held and recovers the energy across the 32-bit wrap", async () => {
    const { cpu0, cpu2 } = intelServer(0x55);
    const unit = 2 ** -14;
    const msr = (path: string, offset: number, unitJ: number, idleW: number): CounterSpec => ({
      format: "msr",
      path,
      offset,
      unitJ,
      wrap: WRAP,
      startRaw: wrapsAfter(idleW, unitJ),
      idleW,
    });
    const sampler = await sampleAndCheck([
      { channel: "package-0", powerW: 25, spec: msr(cpu0, INTEL.pkg, unit, 25) },
      { channel: "core-0", powerW: 10, spec: msr(cpu0, INTEL.pp0, unit, 10) },
      // 5 W in 2^-16 J counts: the DRAM quirk's unit, not 0x606's, makes this energy come out right.
      { channel: "dram-0", powerW: 5, spec: msr(cpu0, INTEL.dram, 2 ** -16, 5) },
      { channel: "package-1", powerW: 15, spec: msr(cpu2, INTEL.pkg, unit, 15) },
    ]);
    expect(sampler.channels.map((c) => c.name)).toEqual([
      "package-0",
      "core-0",
      "dram-0",
      "package-1",
      "core-1",
      "dram-1",
      "psys",
    ]);
  });
});

describe("msr source, AMD", () => {
  it("reads one core counter per physical core and the package with the unit of 0xC0010299", async () => {
    amdZen();
    const report = await probe();
    expect(report.status).toBe("available");
    expect(report.details).toMatchObject({
      vendor: "AuthenticAMD",
      family: "0x19",
      energy_status_unit: "16",
      core_channels: "2",
    });
    // SMT siblings 2 and 3 share cores 0 and 1: their MSR devices are never opened (they do not exist here).
    expect(report.channels.map((c) => [c.name, c.domain, c.scale, c.wrap, c.origin])).toEqual([
      ["package-0", "package-0", 2 ** -16, WRAP, "msr 0xc001029b on cpu 0"],
      ["core-0-0", "core-0", 2 ** -16, WRAP, "msr 0xc001029a on cpu 0"],
      ["core-0-1", "core-0", 2 ** -16, WRAP, "msr 0xc001029a on cpu 1"],
    ]);
  });

  it("recovers package and per-core energy across the wrap", async () => {
    const { cpu0, cpu1 } = amdZen();
    const unit = 2 ** -16;
    const msr = (path: string, offset: number, idleW: number): CounterSpec => ({
      format: "msr",
      path,
      offset,
      unitJ: unit,
      wrap: WRAP,
      startRaw: wrapsAfter(idleW, unit),
      idleW,
    });
    // core-0-0 shares its bytes with the package counter on CPU 0 (see amdZen): not checked.
    const sampler = await sampleAndCheck([
      { channel: "package-0", powerW: 30, spec: msr(cpu0, AMD.pkg, 30) },
      { channel: "core-0-1", powerW: 4, spec: msr(cpu1, AMD.core, 4) },
    ]);
    expect(sampler.channels.map((c) => c.name)).toEqual(["package-0", "core-0-0", "core-0-1"]);
  });

  it("accepts Hygon family 18h and refuses AMD parts before family 17h", async () => {
    amdZen("HygonGenuine", 0x18);
    expect((await probe()).status).toBe("available");
    cpuinfo("AuthenticAMD", 0x15, 0x02, 4);
    const old = await probe();
    expect(old.status).toBe("unsupported");
    expect(old.reason).toContain("family 0x15");
  });
});

describe("msr source, errors", () => {
  it("reports a missing msr driver as absent with the modprobe fix", async () => {
    writeCpuTopology(tree, 1, 2);
    cpuinfo("GenuineIntel", 6, 0x55, 2);
    const report = await probe();
    expect(report.status).toBe("absent");
    expect(report.fix).toContain("sudo modprobe msr");
    await expect(
      inTree(() => new Sampler({ sampleHz: 1000, sources: [{ kind: "msr" }] })),
    ).rejects.toMatchObject({
      code: "E_ABSENT",
    });
  });

  it("reports an unknown vendor as unsupported", async () => {
    writeCpuTopology(tree, 1, 1);
    cpuinfo("CentaurHauls", 6, 0x0f, 1);
    const report = await probe();
    expect(report.status).toBe("unsupported");
    expect(report.reason).toContain("CentaurHauls");
  });

  it("reports a CPU whose unit register does not read as unsupported", async () => {
    writeCpuTopology(tree, 1, 1);
    cpuinfo("GenuineIntel", 6, 0x55, 1);
    msrDevice(tree, 0, { 16: 1n }); // a file that ends before 0x606, as an MSR without RAPL reads EIO
    const report = await probe();
    expect(report.status).toBe("unsupported");
    expect(report.reason).toContain("0x606");
  });

  it("matches this machine: absent without /dev/cpu/0/msr", async () => {
    const [report] = addon.probe(["msr"]);
    if (existsSync("/dev/cpu/0/msr")) {
      console.log("this machine has /dev/cpu/0/msr: checking only that the probe gives a verdict");
      expect(["available", "permission-denied", "unsupported"]).toContain(report?.status);
    } else {
      expect(report?.status).toBe("absent");
      expect(report?.fix).toContain("modprobe msr");
    }
  });

  it("surfaces construction errors as typed errors", async () => {
    writeCpuTopology(tree, 1, 1);
    cpuinfo("CentaurHauls", 6, 0x0f, 1);
    const error = await inTree(() => {
      try {
        new Sampler({ sampleHz: 1000, sources: [{ kind: "msr" }] });
      } catch (e) {
        return e;
      }
      return undefined;
    });
    expect(error).toBeInstanceOf(EmpError);
    expect((error as EmpError).code).toBe("E_UNSUPPORTED");
  });
});
